import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/tokens';
import {
  ACTIVE_STATUSES,
  callerFields,
  type ChatCompletionRecord,
  isReadable,
  keyOf,
  newCallRecord,
} from '../domain/call';
import type { Caller } from '../domain/caller';
import { toChatCompletion, toStoredMessages } from '../domain/chat-view';
import { isEphemeral, stamped } from '../domain/ephemeral';
import { AppError } from '../domain/errors';
import { newChatCompletionId } from '../domain/ids';
import type { JsonObject } from '../domain/json';
import { type ItemList, type ListQuery, listOf, pageOf } from '../domain/list';
import type { CallAnswer, RequestContext, Validated } from '../domain/request-context';
import { type CreateChatBody, createChatRequest } from '../domain/requests/chat.request';
import { ChatCalls } from './call-kinds';
import { CallAdmission } from './call-admission.service';
import { CallLifecycle } from './call-lifecycle.service';
import { CallStreamService, type StreamFormat } from './call-stream.service';
import { type HeldAnswer, HeldCalls } from './held-calls.service';
import { RouteSelector } from './route-selector.service';

/** Chat chunks on the wire: `data:` lines only, ending with `data: [DONE]`. */
const CHAT_STREAM: StreamFormat<ChatCompletionRecord> = {
  frame: (data) => `data: ${data}\n\n`,
  replay: () => [],
};

/** A chat completion that keeps nothing: no log events before its first chunk. */
const HELD: HeldAnswer<ChatCompletionRecord> = { firstEvents: [], format: CHAT_STREAM, view: toChatCompletion };

export interface ChatListFilters {
  model?: string;
  metadata?: Record<string, string>;
}

/** Chat completions as queued jobs, and the stored-completions API. */
@Injectable()
export class ChatCompletionsService {
  constructor(
    private readonly kind: ChatCalls,
    private readonly admission: CallAdmission,
    private readonly calls: CallLifecycle,
    private readonly streams: CallStreamService,
    private readonly held: HeldCalls,
    private readonly routes: RouteSelector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(
    caller: Caller,
    body: Validated<CreateChatBody>,
    ctx: RequestContext,
    clientGone: AbortSignal,
  ): Promise<CallAnswer> {
    const req = createChatRequest(body.value);
    const route = this.routes.forChat(req.model);
    const responseId = newChatCompletionId();
    // A stream's slot first: over MAX_STREAMS_PER_KEY, nothing is created.
    const slot = req.stream ? await this.streams.openSlot(caller) : null;
    const fields = { ...callerFields(caller, ctx), responseId, request: body.raw, ...req, route };
    // Keeps nothing: no MongoDB on the way (an Idempotency-Key needs its durable claim, so it takes the kept way).
    if (isEphemeral(req) && !ctx.idempotencyKey) {
      const record = stamped<ChatCompletionRecord>(newCallRecord(fields));
      return this.held.answer(this.kind, caller, record, HELD, clientGone, slot);
    }
    const write = () => this.kind.repo.insert(newCallRecord(fields));
    // A retry with the same Idempotency-Key gets the call the first request made, answered the same way.
    const { record } = await this.admission
      .accept(this.kind, caller, responseId, ctx, write, () => [])
      .catch(async (err: unknown) => {
        await slot?.();
        throw err;
      });
    if (slot) return { frames: this.frames(record, clientGone, slot) };
    if (req.background) return { body: toChatCompletion(record) };
    const done = await this.calls.awaitResult(this.kind, keyOf(record), clientGone);
    return done ? { body: toChatCompletion(done) } : null;
  }

  async retrieve(caller: Caller, id: string): Promise<JsonObject> {
    return toChatCompletion(await this.stored(caller, id));
  }

  async update(caller: Caller, id: string, metadata: Record<string, string> | null): Promise<JsonObject> {
    await this.stored(caller, id);
    const updated = await this.kind.repo.update({ userId: caller.userId, responseId: id }, { metadata });
    if (!updated) throw this.kind.notFound(id);
    return toChatCompletion(updated);
  }

  async delete(caller: Caller, id: string): Promise<JsonObject> {
    const record = await this.stored(caller, id);
    if (ACTIVE_STATUSES.includes(record.status)) await this.calls.stop(this.kind, keyOf(record), record.background);
    if (!(await this.calls.forget(this.kind, keyOf(record)))) throw this.kind.notFound(id);
    return { object: 'chat.completion.deleted', id, deleted: true };
  }

  async cancel(caller: Caller, id: string): Promise<JsonObject> {
    const record = await this.stored(caller, id);
    return toChatCompletion(await this.calls.cancel(this.kind, record, () => this.stored(caller, id)));
  }

  async list(caller: Caller, query: ListQuery, filters: ChatListFilters): Promise<ItemList> {
    const page = await this.kind.repo.listStored({ userId: caller.userId, ...query, ...filters });
    if (!page) throw AppError.badRequest(`No stored chat completion with id '${query.after}' to list after.`, 'after');
    return listOf(page.records.map(toChatCompletion), page.hasMore);
  }

  async messages(caller: Caller, id: string, query: ListQuery): Promise<ItemList> {
    return pageOf(toStoredMessages(await this.stored(caller, id)), query, `message in chat completion '${id}'`);
  }

  /** Streams the chunks live; closing a synchronous stream cancels the call. */
  private async *frames(record: ChatCompletionRecord, clientGone: AbortSignal, slot: () => Promise<void>) {
    try {
      yield* this.streams.frames(this.kind, CHAT_STREAM, record, -1, clientGone, {
        cancelOnDisconnect: !record.background,
      });
    } finally {
      await slot();
      if (!record.store && !record.background) await this.calls.forget(this.kind, keyOf(record));
    }
  }

  /** Owner-scoped; stored, or a background job within its retention: anything else answers 404. */
  private async stored(caller: Caller, id: string): Promise<ChatCompletionRecord> {
    const record = await this.kind.repo.find({ userId: caller.userId, responseId: id });
    const readable = record && (record.store || record.background) && isReadable(record, this.retentionMs);
    if (!readable) throw this.kind.notFound(id);
    return record;
  }

  private get retentionMs(): number {
    return this.config.ephemeralRetentionS * 1000;
  }
}
