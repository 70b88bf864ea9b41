import { Injectable } from '@nestjs/common';
import type { Caller } from '../auth/api-keys.service';
import type { Response } from 'express';
import { CallLifecycle } from '../calls/call-lifecycle.service';
import { CallStreamer, type StreamFormat } from '../calls/call-streamer.service';
import { ACTIVE_STATUSES, type CallKey, callerFields, keyOf, newCallRecord, TERMINAL_STATUSES } from '../calls/call-record';
import { ApiError } from '../common/api-error';
import { newResponseId } from '../common/ids';
import { type ItemList, pageOf } from '../common/list';
import type { RequestContext } from '../common/request-context';
import { type JsonObject, type ListQuery } from '../common/validation';
import { parseCreateResponse } from './create-response.request';
import { toInputItems } from './input-items';
import { ResponseCallKind } from './response-call.kind';
import { acceptedEvents, eventType, replayEvents, withSequence } from './response-events';
import type { ResponseRecord } from './response.schema';
import { toResponseObject } from './response-view';

/** What a create asks the controller to do: answer JSON (null: the client left), or stream. */
export type CreateOutcome<R> = { stream: false; body: JsonObject | null } | { stream: true; record: R };

/** Responses events on the wire: `event:` and `data:` lines, our sequence number inside. */
const RESPONSE_STREAM: StreamFormat<ResponseRecord> = {
  frame: (data, seq) => `event: ${eventType(data)}\ndata: ${withSequence(data, seq)}\n\n`,
  replay: replayEvents,
};

/** The Responses API behind the controller: create, retrieve, stream, cancel, delete, input items. */
@Injectable()
export class ResponsesService {
  constructor(
    private readonly kind: ResponseCallKind,
    private readonly calls: CallLifecycle,
    private readonly streamer: CallStreamer,
  ) {}

  /**
   * Writes the record, logs its first events (streamed or background), then enqueues its id.
   * Background calls answer at once; synchronous ones wait for the job (a client that goes away
   * cancels it); streamed ones are handed to stream().
   */
  async create(caller: Caller, body: unknown, ctx: RequestContext, clientGone: AbortSignal): Promise<CreateOutcome<ResponseRecord>> {
    const req = parseCreateResponse(body);
    const responseId = newResponseId();
    const record = await this.calls.accept(
      this.kind,
      caller,
      responseId,
      () =>
        this.kind.repo.insert({
          ...newCallRecord({ ...callerFields(caller, ctx), responseId, request: body as JsonObject, ...req }),
          inputItems: toInputItems(req.input),
          output: [],
          usage: null,
          incompleteDetails: null,
        }),
      (r) => (this.kind.logsEvents(r) ? acceptedEvents(r) : []),
    );
    if (req.stream) return { stream: true, record };
    if (req.background) return { stream: false, body: toResponseObject(record) };
    const done = await this.calls.awaitResult(this.kind, keyOf(record), clientGone);
    return { stream: false, body: done ? toResponseObject(done) : null };
  }

  /**
   * Streams a response's events after `afterSeq`, then live until it ends. Closing a synchronous
   * stream cancels the call; closing a background one changes nothing.
   */
  async stream(res: Response, record: ResponseRecord, afterSeq: number, clientGone: AbortSignal, fromCreate: boolean): Promise<void> {
    await this.streamer.stream(this.kind, RESPONSE_STREAM, res, record, afterSeq, clientGone, { cancelOnDisconnect: fromCreate && !record.background });
    if (!record.store) await this.kind.repo.delete(keyOf(record));
  }

  /** A stored response that can be streamed again: only background ones, as with OpenAI. */
  async streamable(caller: Caller, responseId: string): Promise<ResponseRecord> {
    const record = await this.visible(caller, responseId);
    if (!record.background) {
      throw ApiError.badRequest('This response cannot be streamed because it was not created with background=true.', 'stream');
    }
    return record;
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
    const key: CallKey = keyOf(record);
    if (ACTIVE_STATUSES.includes(record.status)) await this.calls.stop(this.kind, key);
    if (!(await this.kind.repo.delete(key))) throw this.notFound(responseId);
    return { id: responseId, object: 'response', deleted: true };
  }

  async listInputItems(caller: Caller, responseId: string, query: ListQuery): Promise<ItemList> {
    return pageOf((await this.visible(caller, responseId)).inputItems, query, `input item in response '${responseId}'`);
  }

  /** Owner-scoped read: another user's id, an unknown id and a finished non-stored one all answer 404. */
  private async visible(caller: Caller, responseId: string): Promise<ResponseRecord> {
    const record = await this.kind.repo.find({ userId: caller.userId, responseId });
    if (!record || (!record.store && TERMINAL_STATUSES.includes(record.status))) throw this.notFound(responseId);
    return record;
  }

  private notFound(id: string): ApiError {
    return ApiError.notFound(this.kind.notFoundMessage(id));
  }
}
