import { Inject, Injectable } from '@nestjs/common';
import type { CallKind } from '../application/call-kinds';
import type { AppConfig } from '../config/app-config';
import { type CallChanges, type CallKey, type CallRecord, TERMINAL_STATUSES } from '../domain/call';
import { unsupportedOverChat } from '../domain/responses-over-chat/request';
import { nextRoute, type Route } from '../domain/routing';
import { redactSecrets } from '../domain/redact';
import { EventLog } from '../infra/event-log.service';
import { JobName, type RunCallPayload } from '../infra/jobs';
import type { Logger } from '../infra/logger';
import { Metrics } from '../infra/metrics.service';
import { StoreUnavailableError } from '../infra/outage';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import { CallFinisher, type Tokens } from './call-finisher.service';
import { nothingProduced, type Produced, type UpstreamProtocol } from './protocols/protocol';
import { failureOf } from './upstream-failure';
import type { UpstreamClient } from './upstream.client';
import { isAbortError, UpstreamError } from './upstream-error';

export type RunOutcome =
  | 'gone'
  | 'already-terminal'
  | 'not-runnable'
  | 'cancelled'
  | 'completed'
  | 'incomplete'
  | 'failed'
  | 'dropped'
  | 'moved';

export interface RunContext {
  /** 1 for the first attempt. */
  attempt: number;
  maxAttempts: number;
  /** Aborted by BullMQ when the job is cancelled through `worker.cancelJob`. */
  signal: AbortSignal;
  /** The client of the route the job's queue belongs to. */
  upstream: UpstreamClient;
  /** Stops every worker taking jobs of this route for `ms` (the upstream answered 429). */
  pauseRoute(ms: number): Promise<void>;
  /**
   * Hands the call to another route for its next attempt (failover): its record now names that route, and a job on
   * that route's queue runs it.
   */
  moveTo(route: string, payload: RunCallPayload): Promise<void>;
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

/** How long a route pauses after a 429 that gave no Retry-After. */
const DEFAULT_429_PAUSE_MS = 1000;

/** What the upstream produced, as tokens: its own count when it gave one, else one token per output delta. */
const tokensOf = (p: Produced): Tokens => p.usage ?? { input: 0, output: p.outputDeltas };

/**
 * Runs one call job of any kind. Idempotent: it re-reads the record and skips anything gone, finished or cancelled;
 * every state change is a conditional update, so a job that runs twice, or finishes after a cancel, cannot write a
 * second or a late result. Once the upstream has answered, nothing calls it again: the job ends with what it has.
 */
@Injectable()
export class CallRunner {
  private readonly log: Logger;

  constructor(
    private readonly events: EventLog,
    private readonly finish: CallFinisher,
    private readonly metrics: Metrics,
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
    // The request id comes from the job's log context (see JobWorkerService), on every line of the call.
    const log = this.log.child({ id: job.responseId, attempt: ctx.attempt });

    // One round trip: queued or in_progress (a retry, or a crashed worker's job) -> in_progress.
    const before = await this.finish.store(() => kind.repo.claim(key));
    if (!before) {
      const now = await this.finish.store(() => kind.repo.find(key));
      return !now ? 'gone' : TERMINAL_STATUSES.includes(now.status) ? 'already-terminal' : 'not-runnable';
    }
    const record: R = {
      ...before,
      status: 'in_progress',
      startedAt: new Date(),
      upstreamCalls: before.upstreamCalls + 1,
    };
    const sink = kind.logsEvents(record) ? this.events.sink(job.responseId) : null;
    // A background call's log starts here unless a stream started it (a stream's api starts it at once).
    if (sink && record.background && before.status === 'queued')
      await this.events
        .start(job.responseId, kind.acceptedEvents(before))
        .catch((err: Error) => log.warn({ err: err.message }, 'event log not started'));
    if (before.status === 'queued') protocol.startedEvents(record).forEach((e) => sink?.emit(e));
    // A re-run (after a crash, a hand-back or a retry) must not repeat output clients already saw.
    const priorOutput =
      sink !== null && before.status === 'in_progress' && (await this.loggedOutput(protocol, job.responseId));
    if (priorOutput) sink.mute();
    if (ctx.signal.aborted) return 'cancelled';
    const startedEmits = sink?.emitted ?? 0;

    const watch = this.watchCancelFlag(kind, key);
    const signal = AbortSignal.any([ctx.signal, watch.signal]);
    const produced = nothingProduced();
    let body: Record<string, unknown>;
    try {
      body = await protocol.execute(ctx.upstream, record, signal, sink, produced);
      await sink?.flush();
    } catch (err) {
      if (signal.aborted || isAbortError(err)) {
        log.info('upstream call aborted by cancel');
        await this.finish.bill(kind, key, tokensOf(produced), record.model);
        return 'cancelled';
      }
      // Once output reached the log, clients have seen it: a retry would repeat it, so stop here.
      const streamed = priorOutput || (sink !== null && sink.emitted > startedEmits);
      return this.onUpstreamError(kind, key, record, err, ctx, log, streamed, produced, job);
    } finally {
      watch.stop();
    }
    return this.store(kind, protocol, key, record, body, log);
  }

  /**
   * Writes the upstream's answer. A store outage hands the job back after STORE_WRITE_RETRY_MS (the only case where
   * the upstream is called again); any other failure here ends the call as failed, never as a retry.
   */
  private async store<R extends CallRecord>(
    kind: CallKind<R>,
    protocol: UpstreamProtocol<R>,
    key: CallKey,
    record: R,
    body: Record<string, unknown>,
    log: Logger,
  ): Promise<RunOutcome> {
    let tokens: Tokens = { input: 0, output: 0 };
    let priced = record.model;
    try {
      const result = protocol.result(record, body);
      tokens = result.tokens;
      // Priced by the model the upstream says it ran (an alias may run a dated snapshot, a router another model).
      priced = result.servedModel || record.model;
      const changes = { ...result.changes, 'commonData.responseRawData': body };
      const done = await this.finish.complete(kind, { ...key, background: record.background }, changes, tokens, priced);
      if (!done) {
        log.info(`result dropped: the ${kind.noun} was cancelled or deleted while the upstream call ran`);
        await this.finish.bill(kind, key, tokens, priced);
        return 'dropped';
      }
      log.info({ status: done.status }, `${kind.noun} finished`);
      return done.status as RunOutcome;
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      log.error({ err }, `could not store the upstream's answer; the ${kind.noun} fails without calling it again`);
      const error = { code: 'server_error', message: `The ${kind.noun} could not be stored.` };
      await this.finish.fail(kind, { ...key, background: record.background }, error, 500, { tokens, model: priced });
      return 'failed';
    }
  }

  private async onUpstreamError<R extends CallRecord>(
    kind: CallKind<R>,
    key: CallKey,
    record: R,
    thrown: unknown,
    ctx: RunContext,
    log: Logger,
    streamed: boolean,
    produced: Produced,
    job: RunCallPayload,
  ): Promise<RunOutcome> {
    if (!(thrown instanceof UpstreamError)) {
      // Our own fault while talking to the upstream: the upstream may have produced already, so no retry.
      log.error({ err: thrown }, `the ${kind.noun} failed in the worker`);
      const error = { code: 'server_error', message: `The ${kind.noun} could not be completed.` };
      await this.finish.fail(kind, { ...key, background: record.background }, error, 500, {
        tokens: tokensOf(produced),
        model: record.model,
      });
      return 'failed';
    }
    // The upstream's own words reach logs, Redis (the job's failure) and clients only without our secrets.
    const message = redactSecrets(thrown.message, this.config.upstreamSecrets);
    // An upstream at capacity is at capacity for every job: no worker takes this route's jobs until it said to retry.
    if (thrown.status === 429) {
      await ctx
        .pauseRoute(thrown.retryAfterMs ?? DEFAULT_429_PAUSE_MS)
        .catch((e: unknown) => log.warn({ err: e }, 'could not pause the route'));
    }
    const retry = thrown.retryable && !streamed && ctx.attempt < ctx.maxAttempts;
    // Failover: the next attempt goes to the next route serving the model; JOB_ATTEMPTS bounds the attempts over all
    // of them (the attempts made so far travel with the job).
    // A Responses request a chat-only route cannot express stays on the routes that can.
    const expressible = (r: Route) =>
      r.protocol !== 'chat' ||
      kind.job !== JobName.RunResponse ||
      !unsupportedOverChat(record.commonData.requestRawData);
    const next = retry ? nextRoute(this.config.routes, record.model, record.route, expressible) : null;
    if (next) {
      const moved = await this.finish.store(() =>
        kind.repo.transition(key, ['in_progress'], { route: next.name } as CallChanges<R>),
      );
      if (moved) {
        this.metrics.retries.inc({ route: record.route, how: 'failover' });
        log.warn(
          { status: thrown.status, from: record.route, to: next.name },
          `transient upstream failure, failing over: ${message}`,
        );
        await ctx.moveTo(next.name, { ...job, attemptsBefore: ctx.attempt });
        return 'moved';
      }
    }
    if (retry) {
      this.metrics.retries.inc({ route: record.route, how: 'retry' });
      log.warn({ status: thrown.status, retryAfterMs: thrown.retryAfterMs }, `transient upstream failure: ${message}`);
      throw new RetryableJobError(message, thrown.retryAfterMs);
    }
    log.warn({ status: thrown.status }, `upstream call failed for good: ${message}`);
    const failure = failureOf(thrown, message, streamed, ctx.attempt);
    await this.finish.fail(kind, { ...key, background: record.background }, failure.error, failure.httpStatus, {
      tokens: tokensOf(produced),
      model: record.model,
    });
    return 'failed';
  }

  private async loggedOutput<R extends CallRecord>(protocol: UpstreamProtocol<R>, id: string): Promise<boolean> {
    try {
      return await this.events.hasOutput(id, (d) => protocol.isLifecycleEvent(d));
    } catch {
      return true; // cannot tell: assume clients saw output, so nothing is repeated
    }
  }

  /**
   * The cancel bus is at-most-once; re-reading the durable flag now and then closes the gap, so a cancel whose message
   * was lost still stops the upstream call within cancelPollMs.
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
