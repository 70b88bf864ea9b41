import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/tokens';
import {
  ACTIVE_STATUSES,
  callerFields,
  isReadable,
  keyOf,
  newCallRecord,
  newResponseFields,
  type ResponseRecord,
} from '../domain/call';
import type { Caller } from '../domain/caller';
import { isEphemeral, stamped } from '../domain/ephemeral';
import { AppError } from '../domain/errors';
import { newResponseId } from '../domain/ids';
import { toInputItems } from '../domain/input-items';
import type { JsonObject } from '../domain/json';
import { type ItemList, type ListQuery, pageOf } from '../domain/list';
import type { CallAnswer, RequestContext, Validated } from '../domain/request-context';
import { type CreateResponseBody, createResponseRequest } from '../domain/requests/responses.request';
import { asItWas, eventType, replayEvents, snapshotOf, withResponse, withSequence } from '../domain/response-events';
import { toResponseObject } from '../domain/response-view';
import { ResponseCalls } from './call-kinds';
import { CallAdmission } from './call-admission.service';
import { CallLifecycle } from './call-lifecycle.service';
import { CallStreamService, type StreamFormat } from './call-stream.service';
import { HeldCalls } from './held-calls.service';
import { RouteSelector } from './route-selector.service';
import { TurnContext } from './turn-context.service';

/**
 * Responses events on the wire: `event:` and `data:` lines, our sequence number inside. Lifecycle events are logged
 * without their Response and get it here, from the record: as it was for created/queued/in_progress, as it is now for
 * the terminal one.
 */
const RESPONSE_STREAM: StreamFormat<ResponseRecord> = {
  frame: async (logged, seq, call) => {
    const snapshot = snapshotOf(logged);
    let data = logged;
    if (snapshot) {
      const record = snapshot === 'final' ? await call.current() : asItWas(call.record, snapshot);
      if (!record) return ''; // deleted meanwhile: nothing more to say
      data = withResponse(logged, toResponseObject(record));
    }
    return `event: ${eventType(data)}\ndata: ${withSequence(data, seq)}\n\n`;
  },
  replay: replayEvents,
};

/** The Responses API: create, retrieve, stream, cancel, delete, input items. */
@Injectable()
export class ResponsesService {
  constructor(
    private readonly kind: ResponseCalls,
    private readonly admission: CallAdmission,
    private readonly calls: CallLifecycle,
    private readonly streams: CallStreamService,
    private readonly held: HeldCalls,
    private readonly turns: TurnContext,
    private readonly routes: RouteSelector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Writes the record, logs its first events (streamed or background), then enqueues its id. Background calls answer
   * at once; synchronous ones wait for the job (a client that goes away cancels it); streamed ones answer frames.
   */
  async create(
    caller: Caller,
    body: Validated<CreateResponseBody>,
    ctx: RequestContext,
    clientGone: AbortSignal,
  ): Promise<CallAnswer> {
    const req = createResponseRequest(body.value);
    const route = this.routes.forResponse(req.model, body.raw);
    const place = await this.turns.resolve(caller, req);
    const responseId = newResponseId();
    // A stream's slot first: over MAX_STREAMS_PER_KEY, nothing is created.
    const slot = req.stream ? await this.streams.openSlot(caller) : null;
    const fresh = {
      ...newCallRecord({ ...callerFields(caller, ctx), responseId, request: body.raw, ...req, route }),
      ...newResponseFields(toInputItems(req.input), place),
    };
    // Only a stream needs the log at once; a background call's log starts when a stream or the worker needs it.
    const firstEvents = (r: ResponseRecord) => (req.stream ? this.kind.acceptedEvents(r) : []);
    // Keeps nothing: no MongoDB on the way (an Idempotency-Key needs its durable claim, so it takes the kept way).
    if (isEphemeral({ ...req, conversationId: place.conversationId }) && !ctx.idempotencyKey) {
      const record = stamped<ResponseRecord>(fresh);
      const how = { firstEvents: firstEvents(record), format: RESPONSE_STREAM, view: toResponseObject };
      return this.held.answer(this.kind, caller, record, how, clientGone, slot);
    }
    const write = () => this.kind.repo.insert(fresh);
    // A retry with the same Idempotency-Key gets the call the first request made, answered the same way.
    const { record } = await this.admission
      .accept(this.kind, caller, responseId, ctx, write, firstEvents)
      .catch(async (err: unknown) => {
        await slot?.();
        throw err;
      });
    if (slot) return { frames: this.frames(record, -1, clientGone, true, slot) };
    if (req.background) return { body: toResponseObject(record) };
    const done = await this.calls.awaitResult(this.kind, keyOf(record), clientGone);
    return done ? { body: toResponseObject(done) } : null;
  }

  /** A stored background response's events after `afterSeq`, then live until it ends. */
  async stream(caller: Caller, responseId: string, afterSeq: number, clientGone: AbortSignal): Promise<CallAnswer> {
    const record = await this.visible(caller, responseId);
    if (!record.background) {
      const message = 'This response cannot be streamed because it was not created with background=true.';
      throw AppError.badRequest(message, 'stream');
    }
    const slot = await this.streams.openSlot(caller);
    // The first stream of a queued call starts its log (a no-op if the worker already did).
    if (record.status === 'queued') await this.streams.startLog(record.responseId, this.kind.acceptedEvents(record));
    return { frames: this.frames(record, afterSeq, clientGone, false, slot) };
  }

  async retrieve(caller: Caller, responseId: string): Promise<JsonObject> {
    return toResponseObject(await this.visible(caller, responseId));
  }

  async cancel(caller: Caller, responseId: string): Promise<JsonObject> {
    const record = await this.visible(caller, responseId);
    return toResponseObject(await this.calls.cancel(this.kind, record, () => this.visible(caller, responseId)));
  }

  async delete(caller: Caller, responseId: string): Promise<JsonObject> {
    const record = await this.visible(caller, responseId);
    const key = keyOf(record);
    if (ACTIVE_STATUSES.includes(record.status)) await this.calls.stop(this.kind, key, record.background);
    if (!(await this.calls.forget(this.kind, key))) throw this.kind.notFound(responseId);
    return { id: responseId, object: 'response', deleted: true };
  }

  async listInputItems(caller: Caller, responseId: string, query: ListQuery): Promise<ItemList> {
    return pageOf((await this.visible(caller, responseId)).inputItems, query, `input item in response '${responseId}'`);
  }

  /** Closing a synchronous stream cancels the call; closing a background one changes nothing. */
  private async *frames(
    record: ResponseRecord,
    afterSeq: number,
    clientGone: AbortSignal,
    fromCreate: boolean,
    slot: () => Promise<void>,
  ) {
    const opts = { cancelOnDisconnect: fromCreate && !record.background };
    try {
      yield* this.streams.frames(this.kind, RESPONSE_STREAM, record, afterSeq, clientGone, opts);
    } finally {
      await slot();
      // A synchronous call that keeps nothing goes once answered; a background one stays for its retention.
      if (!record.store && !record.background) await this.calls.forget(this.kind, keyOf(record));
    }
  }

  /** Owner-scoped read: another user's id, an unknown id and a finished non-stored one all answer 404. */
  private async visible(caller: Caller, responseId: string): Promise<ResponseRecord> {
    const record = await this.kind.repo.find({ userId: caller.userId, responseId });
    if (!record || !isReadable(record, this.config.ephemeralRetentionS * 1000)) throw this.kind.notFound(responseId);
    return record;
  }
}
