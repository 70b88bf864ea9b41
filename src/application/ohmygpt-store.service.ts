import { Injectable } from '@nestjs/common';
import { ACTIVE_STATUSES, keyOf, type RecordWithId } from '../domain/call';
import type { Caller } from '../domain/caller';
import { toOhMyGptItem } from '../domain/chat-view';
import { AppError } from '../domain/errors';
import { isPlausibleId } from '../domain/ids';
import type { JsonObject } from '../domain/json';
import type { z } from 'zod';
import type { ohMyGptListSchema } from '../domain/requests/ohmygpt.request';
import { ChatCalls } from './call-kinds';
import { CallLifecycle } from './call-lifecycle.service';

export type OhMyGptListForm = z.output<typeof ohMyGptListSchema>;

/** OhMyGPT's store endpoints over the stored chat completions: page-numbered list, get and delete by responseId. */
@Injectable()
export class OhMyGptStoreService {
  constructor(
    private readonly kind: ChatCalls,
    private readonly calls: CallLifecycle,
  ) {}

  async list(caller: Caller, form: OhMyGptListForm): Promise<JsonObject> {
    const { page, pageSize } = form;
    const result = await this.kind.repo.page({
      userId: caller.userId,
      page,
      pageSize,
      newestFirst: form.sort,
      models: [...form.models, ...(form.model ? [form.model] : [])],
      responseId: form.responseId,
      omgUrId: form.omgUrId,
    });
    const totalPages = Math.ceil(result.total / pageSize);
    return { page, pageSize, total: result.total, totalPages, items: result.items.map(toOhMyGptItem) };
  }

  async get(caller: Caller, responseId: string): Promise<JsonObject> {
    return toOhMyGptItem(await this.stored(caller, responseId));
  }

  async delete(caller: Caller, responseId: string): Promise<JsonObject> {
    const record = await this.stored(caller, responseId);
    if (ACTIVE_STATUSES.includes(record.status)) await this.calls.stop(this.kind, keyOf(record), record.background);
    if (!(await this.calls.forget(this.kind, keyOf(record)))) throw notFound(record.responseId);
    return { responseId: record.responseId, deleted: true };
  }

  private async stored(caller: Caller, responseId: string): Promise<RecordWithId> {
    if (!isPlausibleId(responseId)) throw notFound(responseId.slice(0, 64));
    const record = await this.kind.repo.findWithId(caller.userId, responseId);
    if (!record || !record.store) throw notFound(responseId);
    return record;
  }
}

const notFound = (id: string) => AppError.notFound(`Chat completion with responseId '${id}' not found.`);
