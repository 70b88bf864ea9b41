import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { ACTIVE_STATUSES, type CallChanges, type CallKey, type CallRecord, keyOf } from '../domain/call';
import { AppError } from '../domain/errors';
import { EventLog } from '../infra/event-log.service';
import { JobProducer } from '../infra/job-producer.service';
import { BusChannel } from '../infra/jobs';
import type { Logger } from '../infra/logger';
import { Metrics } from '../infra/metrics.service';
import { RateLimiter } from '../infra/rate-limiter.service';
import { RedisBus } from '../infra/redis-bus.service';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import { type CallKind, kindLabel } from './call-kinds';
import { EphemeralCalls } from '../infra/ephemeral-calls.service';
import { withResult } from '../domain/ephemeral';
import { type ArmedWait, TerminalWaiter, type WaitResult } from './terminal-waiter.service';
import { WebhookDispatcher } from './webhook-dispatcher.service';

/**
 * The api's half of a call's life after admission, the same for every kind: the wait for a synchronous result, the
 * cancel protocol, and forgetting a call.
 */
@Injectable()
export class CallLifecycle {
  private readonly log: Logger;

  constructor(
    private readonly producer: JobProducer,
    private readonly waiter: TerminalWaiter,
    private readonly bus: RedisBus,
    private readonly events: EventLog,
    private readonly limiter: RateLimiter,
    private readonly webhooks: WebhookDispatcher,
    private readonly metrics: Metrics,
    private readonly held: EphemeralCalls,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'CallLifecycle' });
  }

  /**
   * Waits for a synchronous call. Returns the finished record, or null when the client went away
   * (closing the connection cancels the call, as with OpenAI). Failures become the error the
   * caller sees; a timeout cancels the call and answers 504.
   */
  async awaitResult<R extends CallRecord>(
    store: CallKind<R>,
    key: CallKey,
    clientGone: AbortSignal,
  ): Promise<R | null> {
    const result = await this.waiter.wait(store.repo, key, this.config.syncTimeoutMs, clientGone);
    // A call that keeps nothing keeps nothing on every way out: answered, failed, abandoned or timed out.
    const done = async (record: R | null) => {
      if (record && !record.store) await this.forget(store, key);
    };
    return this.answer(store, key, result, () => this.stopOrRead(store, key), done);
  }

  /** Listens for a call's terminal notice before it is enqueued (a call without a record is waited on this way). */
  expect(id: string): ArmedWait {
    return this.waiter.arm(id);
  }

  /**
   * Waits for a synchronous call that has no MongoDB record (domain/ephemeral): its result comes over Redis. Cancel
   * and the timeout work as for a kept call, with the cancel flag in Redis.
   */
  async awaitHeld<R extends CallRecord>(
    store: CallKind<R>,
    record: R,
    armed: ArmedWait,
    clientGone: AbortSignal,
  ): Promise<R | null> {
    const read = async (carried: string | undefined) =>
      carried ? withResult(record, JSON.parse(carried) as Record<string, unknown>) : this.heldResult(record);
    const result = await this.waiter.waitHeld(armed, read, this.config.syncTimeoutMs, clientGone);
    const done = (r: R | null) => {
      // Sent beside the answer rather than before it (best-effort; the result expires anyway).
      if (r) void this.forgetHeld(record, store.logsEvents(record));
      return Promise.resolve();
    };
    return this.answer(store, keyOf(record), result, async () => (await this.stopHeld(store, record)) ?? null, done);
  }

  /** The finished record of a call without a MongoDB record, or null while it runs. */
  async heldResult<R extends CallRecord>(record: R): Promise<R | null> {
    const result = await this.held.result(record.responseId);
    return result ? withResult(record, result) : null;
  }

  /** Whether a call without a record is over: its result is there, or no job will run it any more. */
  async heldOver(record: CallRecord): Promise<boolean> {
    if (await this.held.result(record.responseId)) return true;
    return !(await this.producer.hasLiveJob(record.responseId, record.route));
  }

  /**
   * Cancel of a call without a record: the flag in Redis (what a worker re-reads), the bus, the job removed if no
   * worker holds it (then its cancelled tombstone is written here; otherwise the worker writes it).
   */
  async stopHeld<R extends CallRecord>(store: CallKind<R>, record: R): Promise<R | undefined> {
    const id = record.responseId;
    const cancelled: R = { ...record, status: 'cancelled', cancelledAt: new Date(), updatedAt: new Date() };
    const results = await Promise.allSettled([
      this.held.cancel(id),
      this.bus.publish(BusChannel.Cancel, id),
      this.producer.removeIfWaiting(id, record.route).then(async (removed) => {
        if (removed) await store.repo.putTombstone(cancelled);
      }),
      store.logsEvents(record) ? this.events.close(id) : Promise.resolve(),
      this.limiter.release(record.keyId, id),
    ]);
    for (const r of results) {
      if (r.status === 'rejected')
        this.log.warn({ id, err: String(r.reason) }, 'cancel of a call without a record: a step failed');
    }
    return undefined;
  }

  /** What a call without a record leaves in Redis once answered: its result and event log go (best-effort). */
  async forgetHeld(record: CallRecord, logged: boolean): Promise<void> {
    const id = record.responseId;
    await Promise.allSettled([this.held.dropResult(id), logged ? this.events.delete(id) : Promise.resolve()]);
  }

  private async answer<R extends CallRecord>(
    store: CallKind<R>,
    key: CallKey,
    result: WaitResult<R>,
    stop: () => Promise<R | null>,
    done: (record: R | null) => Promise<void>,
  ): Promise<R | null> {
    switch (result.kind) {
      case 'aborted':
        await done(await stop());
        this.log.info({ id: key.responseId }, `client went away; synchronous ${store.noun} cancelled`);
        return null;
      case 'timeout':
        await done(await stop());
        throw new AppError(
          'timeout',
          `The ${store.noun} did not finish within ${Math.round(this.config.syncTimeoutMs / 1000)} seconds and was cancelled. Use background mode for long calls.`,
          { code: 'timeout', retryable: false },
        );
      case 'gone':
        throw store.notFound(key.responseId);
      case 'done': {
        const record = result.record;
        await done(record);
        if (record.status === 'failed' && record.error) {
          // The job already retried what was worth retrying; the SDK must not submit it again.
          const status = record.errorStatus ?? 500;
          throw new AppError('upstream_failed', record.error.message, {
            status,
            code: record.error.code,
            retryable: false,
          });
        }
        return record;
      }
    }
  }

  /**
   * Cancel protocol: the durable flag first (a conditional update), then the fast path: the bus
   * tells whichever worker holds the job to abort its upstream call, and a job that no worker has
   * taken is removed. The fast path is best-effort; workers also re-read the flag. A background
   * call's cancel that won owes its webhook event (recorded by the same update), enqueued here.
   */
  async stop<R extends CallRecord>(store: CallKind<R>, key: CallKey, background: boolean): Promise<R | null> {
    const cancelled = await store.repo.transition(key, ACTIVE_STATUSES, {
      status: 'cancelled',
      cancelledAt: new Date(),
      ...this.webhooks.owed(background, key.userId),
    } as CallChanges<R>);
    if (!cancelled) return null;
    this.metrics.callsFinished.inc({ kind: kindLabel(store), status: 'cancelled' });
    const results = await Promise.allSettled([
      this.bus.publish(BusChannel.Cancel, key.responseId),
      this.producer.removeIfWaiting(key.responseId, cancelled.route),
      this.bus.publish(BusChannel.Terminal, key.responseId),
      // Open streams end quietly, and nothing more is appended to the log.
      store.logsEvents(cancelled) ? this.events.close(key.responseId) : Promise.resolve(),
      this.limiter.release(cancelled.keyId, key.responseId),
      this.webhooks.dispatch(store, cancelled),
    ]);
    for (const r of results) {
      if (r.status === 'rejected')
        this.log.warn(
          { id: key.responseId, err: String(r.reason) },
          'cancel fast path failed; workers will see the flag',
        );
    }
    return cancelled;
  }

  /** Deletes a call for good: its record becomes a tombstone (usage kept) and its event log is removed at once. */
  async forget<R extends CallRecord>(store: CallKind<R>, key: CallKey): Promise<boolean> {
    const [deleted] = await Promise.all([
      store.repo.delete(key),
      // Best-effort: an undeleted log expires after EVENT_LOG_RETENTION_S anyway.
      this.events.delete(key.responseId).catch((err: Error) => this.log.warn({ err: err.message }, 'log not removed')),
    ]);
    return deleted;
  }

  /** Cancels an active synchronous call; the record as it is either way (null when gone). */
  private async stopOrRead<R extends CallRecord>(store: CallKind<R>, key: CallKey): Promise<R | null> {
    return (await this.stop(store, key, false)) ?? (await store.repo.find(key));
  }

  /**
   * Cancel as the API exposes it: background calls only; idempotent; 400 for other terminal
   * states. `load` re-reads the record (owner-scoped, 404 when not visible).
   */
  async cancel<R extends CallRecord>(store: CallKind<R>, record: R, load: () => Promise<R>): Promise<R> {
    if (!record.background) throw AppError.badRequest(`Cannot cancel a synchronous ${store.noun}.`);
    const key: CallKey = { userId: record.userId, responseId: record.responseId };
    const after =
      record.status === 'cancelled' ? record : ((await this.stop(store, key, record.background)) ?? (await load()));
    if (after.status !== 'cancelled') throw AppError.badRequest(`Cannot cancel a ${after.status} ${store.noun}.`);
    return after;
  }
}
