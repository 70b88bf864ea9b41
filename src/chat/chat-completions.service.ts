import { Injectable } from '@nestjs/common';
import type { Caller } from '../auth/api-keys.service';
import type { Response } from 'express';
import { CallLifecycle } from '../calls/call-lifecycle.service';
import { CallStreamer, type StreamFormat } from '../calls/call-streamer.service';
import { ACTIVE_STATUSES, callerFields, keyOf, newCallRecord } from '../calls/call-record';
import { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import { type ItemList, listOf, pageOf } from '../common/list';
import type { RequestContext } from '../common/request-context';
import type { JsonObject, ListQuery } from '../common/validation';
import type { CreateOutcome } from '../responses/responses.service';
import { ChatCallKind } from './chat-call.kind';
import type { ChatCompletionRecord } from './chat-completion.schema';
import { toChatCompletion, toStoredMessages } from './chat-view';
import { parseCreateChat, parseUpdateChat } from './create-chat.request';

export const newChatCompletionId = (): string => newId('chatcmpl-', 16);

/** Chat chunks on the wire: `data:` lines only, ending with `data: [DONE]`. */
const CHAT_STREAM: StreamFormat<ChatCompletionRecord> = {
  frame: (data) => `data: ${data}\n\n`,
  replay: () => [],
};

/** Chat completions as queued jobs, and the stored-completions API. */
@Injectable()
export class ChatCompletionsService {
  constructor(
    private readonly kind: ChatCallKind,
    private readonly calls: CallLifecycle,
    private readonly streamer: CallStreamer,
  ) {}

  async create(caller: Caller, body: unknown, ctx: RequestContext, clientGone: AbortSignal): Promise<CreateOutcome<ChatCompletionRecord>> {
    const req = parseCreateChat(body);
    const responseId = newChatCompletionId();
    const record = await this.calls.accept(
      this.kind,
      caller,
      responseId,
      () => this.kind.repo.insert(newCallRecord({ ...callerFields(caller, ctx), responseId, request: body as JsonObject, ...req })),
      () => [],
    );
    if (req.stream) return { stream: true, record };
    if (req.background) return { stream: false, body: toChatCompletion(record) };
    const done = await this.calls.awaitResult(this.kind, keyOf(record), clientGone);
    return { stream: false, body: done ? toChatCompletion(done) : null };
  }

  /** Streams the chunks live; closing a synchronous stream cancels the call. */
  async stream(res: Response, record: ChatCompletionRecord, clientGone: AbortSignal): Promise<void> {
    await this.streamer.stream(this.kind, CHAT_STREAM, res, record, -1, clientGone, { cancelOnDisconnect: !record.background });
    if (!record.store) await this.kind.repo.delete(keyOf(record));
  }

  async retrieve(caller: Caller, id: string): Promise<JsonObject> {
    return toChatCompletion(await this.stored(caller, id));
  }

  async update(caller: Caller, id: string, body: unknown): Promise<JsonObject> {
    const metadata = parseUpdateChat(body);
    await this.stored(caller, id);
    const updated = await this.kind.repo.update({ userId: caller.userId, responseId: id }, { metadata });
    if (!updated) throw this.notFound(id);
    return toChatCompletion(updated);
  }

  async delete(caller: Caller, id: string): Promise<JsonObject> {
    const record = await this.stored(caller, id);
    if (ACTIVE_STATUSES.includes(record.status)) await this.calls.stop(this.kind, keyOf(record));
    if (!(await this.kind.repo.delete(keyOf(record)))) throw this.notFound(id);
    return { object: 'chat.completion.deleted', id, deleted: true };
  }

  async cancel(caller: Caller, id: string): Promise<JsonObject> {
    const record = await this.stored(caller, id);
    return toChatCompletion(await this.calls.cancel(this.kind, record, () => this.stored(caller, id)));
  }

  async list(caller: Caller, query: ListQuery, filters: { model?: string; metadata?: Record<string, string> }): Promise<ItemList> {
    const page = await this.kind.repo.listStored({ userId: caller.userId, ...query, ...filters });
    if (!page) throw ApiError.badRequest(`No stored chat completion with id '${query.after}' to list after.`, 'after');
    const data = page.records.map(toChatCompletion);
    return listOf(data, page.hasMore);
  }

  async messages(caller: Caller, id: string, query: ListQuery): Promise<ItemList> {
    return pageOf(toStoredMessages(await this.stored(caller, id)), query, `message in chat completion '${id}'`);
  }

  /** Owner-scoped and stored only: anything else answers 404. */
  private async stored(caller: Caller, id: string): Promise<ChatCompletionRecord> {
    const record = await this.kind.repo.find({ userId: caller.userId, responseId: id });
    if (!record || !record.store) throw this.notFound(id);
    return record;
  }

  private notFound(id: string): ApiError {
    return ApiError.notFound(this.kind.notFoundMessage(id));
  }
}
