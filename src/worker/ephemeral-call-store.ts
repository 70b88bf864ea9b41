import {
  ACTIVE_STATUSES,
  type CallChanges,
  type CallKey,
  type CallRecord,
  type CallStatus,
  TERMINAL_STATUSES,
} from '../domain/call';
import { applyChanges, resultOf } from '../domain/ephemeral';
import type { EphemeralCalls } from '../infra/ephemeral-calls.service';
import type { CallRecordStore } from '../persistence/call-records.repository';

/** What the mark of an answered call keeps: the tombstone's own fields, never the call's content. */
const MARK_FIELDS = ['status', 'error', 'errorStatus', 'startedAt', 'completedAt', 'cancelledAt', 'route'] as const;

/**
 * The record of a call that keeps nothing, for the one job that runs it: it lives in the job's data and in memory,
 * the cancel flag is read from Redis, the finished record goes to the api over Redis, and the only MongoDB write is
 * its usage tombstone, after the answer (flush). The runner and the finisher use it as they use a MongoDB store.
 */
export class EphemeralCallStore<R extends CallRecord> implements CallRecordStore<R> {
  private tombstone: R | null = null;

  constructor(
    private record: R,
    /** The job ran before (a crash, a retry, a failover): the call is already in progress. */
    private readonly rerun: boolean,
    private readonly results: EphemeralCalls,
    private readonly repo: CallRecordStore<R>,
    /**
     * Replaces the job's copy of the call with one without its content. Called before the answer is handed over, so
     * once a client has its answer the request is nowhere in Redis (the job itself goes a MongoDB write later).
     */
    private readonly forget: (contentless: R) => Promise<void>,
  ) {}

  claim(): Promise<R | null> {
    const before: R = { ...this.record, status: this.rerun ? 'in_progress' : this.record.status };
    this.record = { ...before, status: 'in_progress', startedAt: new Date(), upstreamCalls: before.upstreamCalls + 1 };
    return Promise.resolve(before);
  }

  /** The cancel watch's read: the record as it is, cancelled once the api set the flag. */
  async find(key: CallKey): Promise<R | null> {
    if (await this.results.isCancelled(key.responseId)) return { ...this.record, status: 'cancelled' };
    return this.record;
  }

  async transition(key: CallKey, from: readonly CallStatus[], changes: CallChanges<R>): Promise<R | null> {
    if (!from.includes(this.record.status)) return null;
    const next = applyChanges(this.record, changes as Record<string, unknown>);
    if (TERMINAL_STATUSES.includes(next.status)) {
      // The content out of the job, then the answer (the api is waiting on it); the tombstone once the run is over.
      await this.forget(this.repo.contentless(next));
      await this.results.putResult(key.responseId, resultOf(next), markOf(next));
      this.tombstone = next;
    }
    this.record = next;
    return next;
  }

  /** Usage of a call that ended without its result: its tombstone says so. */
  recordUsage(_key: CallKey, changes: CallChanges<R>): Promise<boolean> {
    const ended = ACTIVE_STATUSES.includes(this.record.status) ? this.cancelled() : this.record;
    this.tombstone = applyChanges(ended, changes as Record<string, unknown>);
    return Promise.resolve(true);
  }

  /**
   * After the run: the tombstone (usage and cost, content gone). A call cancelled before it finished leaves one too,
   * as a kept call's record would be a cancelled tombstone.
   */
  async flush(outcome: string): Promise<void> {
    const tombstone = this.tombstone ?? (outcome === 'cancelled' ? this.cancelled() : null);
    if (tombstone) await this.repo.putTombstone(tombstone);
  }

  /** A job run again after its call was answered: the tombstone from the mark, and no second upstream call. */
  async replayAnswered(mark: Record<string, unknown>): Promise<void> {
    const { usage, costCoins, ...fields } = mark as { usage: R['commonData']['usage']; costCoins: number };
    const commonData = { ...this.record.commonData, usage, costCoins };
    const record = { ...this.record, ...fields, commonData } as R;
    for (const f of ['startedAt', 'completedAt', 'cancelledAt'] as const) {
      const v = record[f] as unknown;
      if (typeof v === 'string') (record as Record<string, unknown>)[f] = new Date(v);
    }
    await this.repo.putTombstone(record);
  }

  /**
   * A job run again whose call had let its content go for an answer that was never handed over (its worker stopped
   * in between): the api is told it failed, and the tombstone keeps the usage the upstream reported.
   */
  async abandon(message: string): Promise<void> {
    const failed = {
      ...this.record,
      status: 'failed',
      error: { code: 'server_error', message },
      errorStatus: 500,
    } as R;
    await this.results.putResult(failed.responseId, resultOf(failed), markOf(failed));
    await this.repo.putTombstone(failed);
  }

  /** Whether this is the job's copy of a call that already let its content go (see `forget`). */
  get forgotten(): boolean {
    return TERMINAL_STATUSES.includes(this.record.status);
  }

  private cancelled(): R {
    return { ...this.record, status: 'cancelled', cancelledAt: new Date() };
  }

  putTombstone(record: R): Promise<void> {
    return this.repo.putTombstone(record);
  }

  contentless(record: R): R {
    return this.repo.contentless(record);
  }

  insert(): Promise<R> {
    return Promise.reject(new Error('a call without a record is not inserted'));
  }

  update(): Promise<R | null> {
    return Promise.resolve(null);
  }

  findStaleActive(): Promise<R[]> {
    return Promise.resolve([]);
  }

  findExpiredEphemeral(): Promise<R[]> {
    return Promise.resolve([]);
  }

  delete(): Promise<boolean> {
    return Promise.resolve(false);
  }

  remove(): Promise<void> {
    return Promise.resolve();
  }

  /** Only a tombstone is ever written, once the call has ended. */
  wasWritten(): Promise<boolean> {
    return Promise.resolve(false);
  }

  /** Synchronous calls owe no webhook event. */
  findOwedWebhooks(): Promise<R[]> {
    return Promise.resolve([]);
  }

  clearWebhookPending(): Promise<void> {
    return Promise.resolve();
  }
}

function markOf(r: CallRecord): Record<string, unknown> {
  const mark: Record<string, unknown> = Object.fromEntries(MARK_FIELDS.map((f) => [f, r[f]]));
  mark.usage = r.commonData.usage;
  mark.costCoins = r.commonData.costCoins;
  return mark;
}
