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
     * The job's hash, its data once the call is over (the finished record without its content), what to do once
     * that data is in Redis, and the release of the caller's in-flight slot.
     */
    private readonly job: {
      key: string;
      dataWith(contentless: R): object;
      forgot(data: object): void;
      release(): Promise<void>;
    },
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
      // In one step the job forgets the content and the api gets the answer; the tombstone once the run is over.
      // The caller's slot is released first, sent ahead of it on the same connection, so a client that sends its
      // next call on the answer finds the slot free.
      const data = this.job.dataWith(this.repo.contentless(next));
      await Promise.all([this.job.release(), this.results.finish(key.responseId, this.job.key, data, resultOf(next))]);
      this.job.forgot(data);
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

  /**
   * Whether this job's call was answered before: its data then holds the finished record (content gone), which is
   * its tombstone; a job still holding the content was never answered (the two change in one step).
   */
  get answered(): boolean {
    return TERMINAL_STATUSES.includes(this.record.status);
  }

  /** A job run again after its call was answered: its tombstone, and no second upstream call. */
  async replayAnswered(): Promise<void> {
    await this.job.release();
    await this.repo.putTombstone(this.record);
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
