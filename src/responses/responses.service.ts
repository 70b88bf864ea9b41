import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '../auth/api-keys.service';
import type { AppConfig } from '../config/app-config';
import { ApiError } from '../common/api-error';
import { newResponseId } from '../common/ids';
import type { Logger } from '../common/logger';
import type { RequestContext } from '../common/request-context';
import { type JsonObject, type ListQuery } from '../common/validation';
import { RedisBus } from '../infra/redis-bus.service';
import { APP_CONFIG, LOGGER } from '../infra/tokens';
import { BusChannel, JobName } from '../queue/jobs';
import { JobProducer } from '../queue/job-producer.service';
import { parseCreateResponse } from './create-response.request';
import { toInputItems } from './input-items';
import { ACTIVE_STATUSES, type ResponseRecord, TERMINAL_STATUSES } from './response.schema';
import { toResponseObject } from './response-view';
import { type ResponseKey, ResponsesRepository } from './responses.repository';
import { TerminalWaiter } from './terminal-waiter.service';

export interface ItemList {
  object: 'list';
  data: JsonObject[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** The Responses API behind the controller: create, retrieve, cancel, delete, input items. */
@Injectable()
export class ResponsesService {
  private readonly log: Logger;

  constructor(
    private readonly repo: ResponsesRepository,
    private readonly producer: JobProducer,
    private readonly waiter: TerminalWaiter,
    private readonly bus: RedisBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'ResponsesService' });
  }

  /**
   * Writes the record, then enqueues its id. Background calls answer at once; synchronous ones
   * wait for the job (a client that goes away cancels it). Returns null when the client left.
   */
  async create(caller: Caller, body: unknown, ctx: RequestContext, clientGone: AbortSignal): Promise<JsonObject | null> {
    const req = parseCreateResponse(body);
    if (req.stream) {
      throw ApiError.badRequest('Streaming (`stream: true`) is not supported by this server yet; poll a background response instead.', 'stream');
    }
    const responseId = newResponseId();
    const key: ResponseKey = { userId: caller.userId, responseId };
    const record = await this.repo.insert({
      userId: caller.userId,
      responseId,
      omgUrId: ctx.requestId,
      reqBodyHash: ctx.reqBodyHash,
      commonData: {
        requestRawData: body as JsonObject,
        responseRawData: null,
        openAIStoredBody: null,
        userAgent: ctx.userAgent,
        reqIp: ctx.reqIp,
        usage: { input_text: 0, output_text: 0 },
        costCoins: 0,
      },
      metadata: req.metadata,
      status: 'queued',
      model: req.model,
      background: req.background,
      store: req.store,
      inputItems: toInputItems(req.input),
      output: [],
      usage: null,
      error: null,
      errorStatus: null,
      incompleteDetails: null,
      startedAt: null,
      completedAt: null,
      cancelledAt: null,
      upstreamCalls: 0,
    });
    try {
      await this.producer.enqueue(JobName.RunResponse, responseId, { responseId, userId: caller.userId, requestId: ctx.requestId });
    } catch (err) {
      // Nothing was accepted: remove the record so no queued response is left without a job.
      this.log.error({ err: (err as Error).message, responseId, requestId: ctx.requestId }, 'enqueue failed');
      await this.repo.delete(key).catch(() => undefined);
      throw ApiError.unavailable();
    }
    this.log.info({ responseId, requestId: ctx.requestId, background: req.background }, 'response accepted');
    if (req.background) return toResponseObject(record);
    return this.awaitSynchronous(key, clientGone);
  }

  async retrieve(caller: Caller, responseId: string): Promise<JsonObject> {
    return toResponseObject(await this.visible(caller, responseId));
  }

  async cancel(caller: Caller, responseId: string): Promise<JsonObject> {
    const record = await this.visible(caller, responseId);
    if (!record.background) throw ApiError.badRequest('Cannot cancel a synchronous response.');
    const cancelled = record.status === 'cancelled' ? record : ((await this.stop(keyOf(record))) ?? (await this.visible(caller, responseId)));
    if (cancelled.status !== 'cancelled') throw ApiError.badRequest(`Cannot cancel a ${cancelled.status} response.`);
    return toResponseObject(cancelled);
  }

  async delete(caller: Caller, responseId: string): Promise<JsonObject> {
    const record = await this.visible(caller, responseId);
    if (ACTIVE_STATUSES.includes(record.status)) await this.stop(keyOf(record));
    if (!(await this.repo.delete(keyOf(record)))) throw notFound(responseId);
    return { id: responseId, object: 'response', deleted: true };
  }

  async listInputItems(caller: Caller, responseId: string, query: ListQuery): Promise<ItemList> {
    const record = await this.visible(caller, responseId);
    const ordered = query.order === 'asc' ? record.inputItems : [...record.inputItems].reverse();
    let start = 0;
    if (query.after !== undefined) {
      const at = ordered.findIndex((item) => item.id === query.after);
      if (at < 0) throw ApiError.badRequest(`No input item with id '${query.after}' in response '${responseId}'.`, 'after');
      start = at + 1;
    }
    const data = ordered.slice(start, start + query.limit);
    return {
      object: 'list',
      data,
      first_id: (data[0]?.id as string | undefined) ?? null,
      last_id: (data[data.length - 1]?.id as string | undefined) ?? null,
      has_more: start + query.limit < ordered.length,
    };
  }

  private async awaitSynchronous(key: ResponseKey, clientGone: AbortSignal): Promise<JsonObject | null> {
    const result = await this.waiter.wait(key, this.config.syncTimeoutMs, clientGone);
    switch (result.kind) {
      case 'aborted':
        // Closing the connection of a synchronous call cancels it, as with OpenAI.
        await this.stop(key);
        this.log.info({ responseId: key.responseId }, 'client went away; synchronous response cancelled');
        return null;
      case 'timeout':
        await this.stop(key);
        throw new ApiError(504, `The response did not finish within ${Math.round(this.config.syncTimeoutMs / 1000)} seconds and was cancelled. Use background mode for long calls.`, 'server_error', null, 'timeout', { 'x-should-retry': 'false' });
      case 'gone':
        throw notFound(key.responseId);
      case 'done': {
        const record = result.record;
        if (!record.store) await this.repo.delete(key);
        if (record.status === 'failed' && record.error) {
          // The job already retried what was worth retrying; the SDK must not re-submit it.
          throw new ApiError(record.errorStatus ?? 500, record.error.message, record.errorStatus && record.errorStatus < 500 ? 'invalid_request_error' : 'server_error', null, record.error.code, { 'x-should-retry': 'false' });
        }
        return toResponseObject(record);
      }
    }
  }

  /**
   * Cancel protocol: the durable flag first (a conditional update), then the fast path: the
   * bus tells whichever worker holds the job to abort its upstream call, and a job no worker
   * took yet is removed. Publishing is best-effort; workers also re-read the flag.
   */
  private async stop(key: ResponseKey): Promise<ResponseRecord | null> {
    const cancelled = await this.repo.transition(key, ACTIVE_STATUSES, { status: 'cancelled', cancelledAt: new Date() });
    if (!cancelled) return null;
    const results = await Promise.allSettled([
      this.bus.publish(BusChannel.Cancel, key.responseId),
      this.producer.removeIfWaiting(JobName.RunResponse, key.responseId),
      this.bus.publish(BusChannel.Terminal, key.responseId),
    ]);
    for (const r of results) {
      if (r.status === 'rejected') this.log.warn({ responseId: key.responseId, err: String(r.reason) }, 'cancel fast path failed; workers will see the flag');
    }
    return cancelled;
  }

  /** Owner-scoped read: another user's id, an unknown id and a non-stored response all answer 404. */
  private async visible(caller: Caller, responseId: string): Promise<ResponseRecord> {
    const record = await this.repo.find({ userId: caller.userId, responseId });
    if (!record || (!record.store && TERMINAL_STATUSES.includes(record.status))) throw notFound(responseId);
    return record;
  }
}

const keyOf = (r: ResponseRecord): ResponseKey => ({ userId: r.userId, responseId: r.responseId });
const notFound = (id: string) => ApiError.notFound(`Response with id '${id}' not found.`);
