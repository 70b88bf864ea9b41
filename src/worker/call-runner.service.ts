import { Inject, Injectable } from '@nestjs/common';
import type { CallKind } from '../application/call-kinds';
import type { AppConfig } from '../config/app-config';
import {
  ACTIVE_STATUSES,
  type CallChanges,
  type CallErrorInfo,
  type CallKey,
  type CallRecord,
  TERMINAL_STATUSES,
} from '../domain/call';
import { costCoins } from '../domain/pricing';
import { EventLog } from '../infra/event-log.service';
import { BusChannel, type RunCallPayload } from '../infra/jobs';
import type { Logger } from '../infra/logger';
import { isOutage, StoreUnavailableError } from '../infra/outage';
import { RateLimiter } from '../infra/rate-limiter.service';
import { RedisBus } from '../infra/redis-bus.service';
import { APP_CONFIG, LOGGER } from '../infra/tokens';
import type { UpstreamProtocol } from './protocols/protocol';
import { UpstreamClient } from './upstream.client';
import { isAbortError, UpstreamError } from './upstream-error';

export type RunOutcome =
  'gone' | 'already-terminal' | 'not-runnable' | 'cancelled' | 'completed' | 'incomplete' | 'failed' | 'dropped';

export interface RunContext {
  /** 1 for the first attempt. */
  attempt: number;
  maxAttempts: number;
  /** Aborted by BullMQ when the job is cancelled through `worker.cancelJob`. */
  signal: AbortSignal;
}

/** A transient failure the queue should retry, with the upstream's wait if it gave one. */
export class RetryableJobError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
    this.name = 'RetryableJobError';
  }
}

/**
 * Runs one call job of any kind. Idempotent: it re-reads the record and skips anything gone,
 * finished or cancelled; every state change is a conditional update, so a job that runs twice,
 * or finishes after a cancel, cannot write a second or a late result.
 */
@Injectable()
export class CallRunner {
  private readonly log: Logger;
  private readonly unpricedModels = new Set<string>();

  constructor(
    private readonly upstream: UpstreamClient,
    private readonly bus: RedisBus,
    private readonly events: EventLog,
    private readonly limiter: RateLimiter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'CallRunner' });
  }

  async run<R extends CallRecord>(
    kind: CallKind<R>,
    protocol: UpstreamProtocol<R>,
    job: RunCallPayload,
    ctx: RunContext,
  ): Promise<RunOutcome> {
    const key: CallKey = { userId: job.userId, responseId: job.responseId };
    const log = this.log.child({ id: job.responseId, requestId: job.requestId, attempt: ctx.attempt });

    // One round trip: queued or in_progress (a retry, or a crashed worker's job) -> in_progress.
    const before = await this.store(() => kind.repo.claim(key));
    if (!before) {
      const now = await this.store(() => kind.repo.find(key));
      return !now ? 'gone' : TERMINAL_STATUSES.includes(now.status) ? 'already-terminal' : 'not-runnable';
    }
    const record: R = {
      ...before,
      status: 'in_progress',
      startedAt: new Date(),
      upstreamCalls: before.upstreamCalls + 1,
    };
    const sink = kind.logsEvents(record) ? this.events.sink(job.responseId) : null;
    if (before.status === 'queued') protocol.startedEvents(record).forEach((e) => sink?.emit(e));
    // A re-run (after a crash, a hand-back or a retry) must not repeat output clients already saw.
    const priorOutput =
      sink !== null && before.status === 'in_progress' && (await this.loggedOutput(protocol, job.responseId));
    if (priorOutput) sink.mute();
    if (ctx.signal.aborted) return 'cancelled';
    const startedEmits = sink?.emitted ?? 0;

    const watch = this.watchCancelFlag(kind, key);
    const signal = AbortSignal.any([ctx.signal, watch.signal]);
    let body: Record<string, unknown>;
    try {
      body = await protocol.execute(this.upstream, record, signal, sink);
      await sink?.flush();
    } catch (err) {
      if (signal.aborted || isAbortError(err)) {
        log.info('upstream call aborted by cancel');
        return 'cancelled';
      }
      // Once output reached the log, clients have seen it: a retry would repeat it, so stop here.
      const streamed = priorOutput || (sink !== null && sink.emitted > startedEmits);
      return this.onUpstreamError(kind, key, err, ctx, log, streamed);
    } finally {
      watch.stop();
    }

    const { changes, tokens } = protocol.result(record, body);
    // The upstream answered: keep trying to store it rather than call the upstream again.
    const done = await this.store(
      () =>
        kind.repo.transition(key, ['in_progress'], {
          ...changes,
          'commonData.responseRawData': body,
          'commonData.usage': { input_text: tokens.input, output_text: tokens.output },
          'commonData.costCoins': this.cost(record.model, tokens),
        }),
      this.config.storeWriteRetryMs,
    );
    if (!done) {
      log.info(`result dropped: the ${kind.noun} was cancelled or deleted while the upstream call ran`);
      return 'dropped';
    }
    await this.announceTerminal(kind, done);
    log.info({ status: done.status }, `${kind.noun} finished`);
    return done.status as RunOutcome;
  }

  /** Records a final failure once (last attempt, or a job that stalled too often). */
  async recordFailure<R extends CallRecord>(
    kind: CallKind<R>,
    key: CallKey,
    error: CallErrorInfo,
    errorStatus: number | null,
  ): Promise<boolean> {
    const failed = await this.store(
      () => kind.repo.transition(key, ACTIVE_STATUSES, { status: 'failed', error, errorStatus } as CallChanges<R>),
      this.config.storeWriteRetryMs,
    );
    if (failed) await this.announceTerminal(kind, failed);
    return failed !== null;
  }

  private async onUpstreamError<R extends CallRecord>(
    kind: CallKind<R>,
    key: CallKey,
    thrown: unknown,
    ctx: RunContext,
    log: Logger,
    streamed: boolean,
  ): Promise<RunOutcome> {
    // Our own fault (e.g. MongoDB) before any output: let the queue retry it. After output, any
    // failure ends the call, since a retry would repeat what clients already saw.
    if (!(thrown instanceof UpstreamError) && !streamed) throw thrown;
    const err = thrown instanceof UpstreamError ? thrown : new UpstreamError((thrown as Error).message, null, false);
    if (err.retryable && !streamed && ctx.attempt < ctx.maxAttempts) {
      log.warn({ status: err.status, retryAfterMs: err.retryAfterMs }, `transient upstream failure: ${err.message}`);
      throw new RetryableJobError(err.message, err.retryAfterMs);
    }
    const suffix = streamed
      ? ' (the stream broke after output was sent)'
      : err.retryable
        ? ` (after ${ctx.attempt} attempts)`
        : '';
    log.warn({ status: err.status }, `upstream call failed for good: ${err.message}`);
    await this.recordFailure(
      kind,
      key,
      { code: errorCode(err), message: `${err.message}${suffix}` },
      failureHttpStatus(err),
    );
    return 'failed';
  }

  /**
   * A MongoDB step. While MongoDB is away it is retried with backoff for up to `retryMs`; after
   * that (or at once when retryMs is 0) a StoreUnavailableError hands the job back to the queue
   * without spending one of its attempts.
   */
  private async store<T>(step: () => Promise<T>, retryMs = 0): Promise<T> {
    const deadline = Date.now() + retryMs;
    for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
      try {
        return await step();
      } catch (err) {
        if (!isOutage(err)) throw err;
        if (Date.now() + wait > deadline) throw new StoreUnavailableError(err);
        this.log.warn({ err: (err as Error).message, retryInMs: wait }, 'MongoDB unavailable; retrying the write');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private async loggedOutput<R extends CallRecord>(protocol: UpstreamProtocol<R>, id: string): Promise<boolean> {
    try {
      return await this.events.hasOutput(id, (d) => protocol.isLifecycleEvent(d));
    } catch {
      return true; // cannot tell: assume clients saw output, so nothing is repeated
    }
  }

  private cost(model: string, tokens: { input: number; output: number }): number {
    const coins = costCoins(this.config.priceTable, model, tokens.input, tokens.output);
    if (coins !== null) return coins;
    if (!this.unpricedModels.has(model)) {
      this.unpricedModels.add(model);
      this.log.warn({ model }, 'no price for this model in PRICE_TABLE; recording costCoins 0');
    }
    return 0;
  }

  /** Frees the caller's slot, closes the event log with the final event, wakes waiters. */
  private async announceTerminal<R extends CallRecord>(kind: CallKind<R>, record: R): Promise<void> {
    const id = record.responseId;
    // Independent steps, sent together: stream tailers are woken by the append itself, and
    // synchronous waiters read the record (already final) when the notice wakes them.
    const [, ...notices] = await Promise.allSettled([
      this.limiter.release(record.keyId, id),
      kind.logsEvents(record) ? this.events.append(id, [kind.terminalEvent(record)]) : Promise.resolve(),
      this.bus.publish(BusChannel.Terminal, id),
    ]);
    for (const n of notices) {
      // Tailers and waiters also re-read MongoDB, so a lost notice only delays them.
      if (n.status === 'rejected') this.log.warn({ err: String(n.reason), id }, 'could not publish the terminal event');
    }
  }

  /**
   * The cancel bus is at-most-once; re-reading the durable flag now and then closes the gap, so
   * a cancel whose message was lost still stops the upstream call within cancelPollMs.
   */
  private watchCancelFlag<R extends CallRecord>(
    kind: CallKind<R>,
    key: CallKey,
  ): { signal: AbortSignal; stop: () => void } {
    const controller = new AbortController();
    const timer = setInterval(() => {
      kind.repo
        .find(key)
        .then((r) => {
          if (!r || r.status !== 'in_progress') controller.abort();
        })
        .catch(() => undefined);
    }, this.config.cancelPollMs);
    timer.unref();
    return { signal: controller.signal, stop: () => clearInterval(timer) };
  }
}

function errorCode(err: UpstreamError): string {
  if (err.status === 429) return 'rate_limit_exceeded';
  if (err.status !== null && err.status >= 400 && err.status < 500) return err.upstreamCode ?? 'invalid_prompt';
  return 'server_error';
}

/** A synchronous caller sees the upstream's 4xx (and 429) as is; anything else is a 502 from us. */
function failureHttpStatus(err: UpstreamError): number {
  if (err.status === 429) return 429;
  if (err.status !== null && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 409)
    return err.status;
  return 502;
}
