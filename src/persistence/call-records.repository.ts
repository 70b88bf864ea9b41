import type { Model, Types } from 'mongoose';
import type { UsageRow } from '../domain/usage';
import {
  ACTIVE_STATUSES,
  type CallChanges,
  type CallKey,
  type CallRecord,
  type CallStatus,
  type NewCall,
  TERMINAL_STATUSES,
} from '../domain/call';
import { tombstoneOf } from '../domain/ephemeral';

/** A record as the repository hands it out: a plain object; `_id` only where a cursor needs it. */
type WithId<R> = R & { _id?: Types.ObjectId };

/** The operations on one kind of call's records, as the services see them (methods only, so kinds compose). */
export interface CallRecordStore<R extends CallRecord> {
  insert(record: NewCall<R>): Promise<R>;
  find(key: CallKey): Promise<R | null>;
  wasWritten(key: CallKey): Promise<boolean>;
  transition(key: CallKey, from: readonly CallStatus[], changes: CallChanges<R>): Promise<R | null>;
  claim(key: CallKey): Promise<R | null>;
  update(key: CallKey, changes: CallChanges<R>): Promise<R | null>;
  recordUsage(key: CallKey, changes: CallChanges<R>): Promise<boolean>;
  findStaleActive(before: Date, limit: number): Promise<R[]>;
  findExpiredEphemeral(endedBefore: Date, limit: number): Promise<R[]>;
  findOwedWebhooks(before: Date, limit: number): Promise<R[]>;
  clearWebhookPending(key: CallKey): Promise<void>;
  delete(key: CallKey): Promise<boolean>;
  remove(key: CallKey): Promise<void>;
  putTombstone(record: R): Promise<void>;
  /** The record with this kind's content gone (what its tombstone keeps). */
  contentless(record: R): R;
}

/**
 * Storage of one kind of call. Mongoose stays in here; services get plain objects. There is no
 * method that takes an id without its owner.
 */
export abstract class CallRecordsRepository<R extends CallRecord> implements CallRecordStore<R> {
  /** @param contentFields this kind's own content fields and their empty values, removed on delete. */
  protected constructor(
    protected readonly model: Model<R>,
    private readonly contentFields: Record<string, unknown> = {},
  ) {}

  /**
   * Records are whole by construction (newCallRecord and the kinds' builders set every field the schema has, with
   * its types; call-records.repository.spec checks them against mongoose's cast), so the two writes on every call's
   * way go to the driver as they are, without building a mongoose document for them.
   */
  async insert(record: NewCall<R>): Promise<R> {
    const now = new Date();
    const doc = { ...record, createdAt: now, updatedAt: now } as R;
    await this.insertWhole(doc);
    return doc;
  }

  /** The driver's insertOne (it adds `_id` to what it is given, so it gets a copy). */
  private async insertWhole(doc: R): Promise<void> {
    await this.model.collection.insertOne({ ...doc } as Parameters<Model<R>['collection']['insertOne']>[0]);
  }

  async find(key: CallKey): Promise<R | null> {
    const doc = await this.model.findOne(ownerFilter(key)).lean<WithId<R>>().exec();
    return doc ? strip(doc) : null;
  }

  /** Whether the call was ever written, tombstones included (an Idempotency-Key retry tells "not yet" from "gone"). */
  async wasWritten(key: CallKey): Promise<boolean> {
    return (await this.model.exists({ userId: key.userId, responseId: key.responseId }).exec()) !== null;
  }

  /**
   * The only way a status changes: one conditional update from an expected status. Null when
   * the record was not in one (cancelled meanwhile, finished, or deleted), so a terminal state
   * is never overwritten and a late result is never written.
   */
  async transition(key: CallKey, from: readonly CallStatus[], changes: CallChanges<R>): Promise<R | null> {
    // Terminal transitions are counted on the record: the fault tests check that every call has exactly one.
    const terminal = changes.status !== undefined && TERMINAL_STATUSES.includes(changes.status);
    const update = terminal ? { $set: changes, $inc: { terminalWrites: 1 } } : { $set: changes };
    const doc = await this.model
      .findOneAndUpdate({ ...ownerFilter(key), status: { $in: [...from] } }, update, { returnDocument: 'after' })
      .lean<WithId<R>>()
      .exec();
    return doc ? strip(doc) : null;
  }

  /**
   * The worker's claim, in one round trip: a queued or in-progress call becomes in_progress and
   * its upstream call is counted. Returns the record as it was before (so the caller knows
   * whether it was queued), or null when it is finished, cancelled or gone.
   */
  async claim(key: CallKey): Promise<R | null> {
    const doc = await this.model
      .findOneAndUpdate(
        { ...ownerFilter(key), status: { $in: [...ACTIVE_STATUSES] } },
        { $set: { status: 'in_progress', startedAt: new Date() }, $inc: { upstreamCalls: 1 } },
        { returnDocument: 'before' },
      )
      .lean<WithId<R>>()
      .exec();
    return doc ? strip(doc) : null;
  }

  /** Changes fields other than the status (e.g. metadata), whatever the status. */
  async update(key: CallKey, changes: CallChanges<R>): Promise<R | null> {
    const doc = await this.model
      .findOneAndUpdate(ownerFilter(key), { $set: changes }, { returnDocument: 'after' })
      .lean<WithId<R>>()
      .exec();
    return doc ? strip(doc) : null;
  }

  /**
   * Usage and cost of a call that ended without its result (cancelled, or its result dropped): the status stays,
   * and a tombstone gets them too, since usage is summed over tombstones (a store: false call is one at once).
   */
  async recordUsage(key: CallKey, changes: CallChanges<R>): Promise<boolean> {
    if (!key.userId) throw new Error('userId is required in every filter');
    const filter = { userId: key.userId, responseId: key.responseId, status: { $in: [...TERMINAL_STATUSES] } };
    const res = await this.model.updateOne(filter, { $set: changes }).exec();
    return res.matchedCount > 0;
  }

  /**
   * SYSTEM USE ONLY (the recovery sweep; no HTTP route reaches it): queued or in-progress calls
   * of any owner not updated since `before`, oldest first.
   */
  async findStaleActive(before: Date, limit: number): Promise<R[]> {
    const docs = await this.model
      .find({ status: { $in: [...ACTIVE_STATUSES] }, deletedAt: null, updatedAt: { $lt: before } })
      .sort({ updatedAt: 1 })
      .limit(limit)
      .lean<WithId<R>[]>()
      .exec();
    return docs.map(strip);
  }

  /**
   * SYSTEM USE ONLY (the recovery sweep): background calls that keep nothing (`store: false`), finished before
   * `endedBefore` and not yet removed: their retention is over.
   */
  async findExpiredEphemeral(endedBefore: Date, limit: number): Promise<R[]> {
    const docs = await this.model
      .find({
        status: { $in: [...TERMINAL_STATUSES] },
        updatedAt: { $lt: endedBefore },
        store: false,
        background: true,
        deletedAt: null,
      })
      .sort({ updatedAt: 1 })
      .limit(limit)
      .lean<WithId<R>[]>()
      .exec();
    return docs.map(strip);
  }

  /**
   * SYSTEM USE ONLY (the recovery sweep): finished calls whose webhook event is still owed (its deliveries were not
   * enqueued: a process stopped, or Redis lost them) since before `before`, oldest first.
   */
  async findOwedWebhooks(before: Date, limit: number): Promise<R[]> {
    const docs = await this.model
      .find({ webhookPending: true, updatedAt: { $lt: before } })
      .sort({ updatedAt: 1 })
      .limit(limit)
      .lean<WithId<R>[]>()
      .exec();
    return docs.map(strip);
  }

  /** The event's deliveries are enqueued: nothing is owed any more. */
  async clearWebhookPending(key: CallKey): Promise<void> {
    if (!key.userId) throw new Error('userId is required in every filter');
    // Tombstones included: a call deleted right after it ended still had its event.
    const filter = { userId: key.userId, responseId: key.responseId, webhookPending: true };
    await this.model.updateOne(filter, { $set: { webhookPending: false } }, { timestamps: false }).exec();
  }

  /**
   * Deletes a call as far as anyone can see: its content (request, answer, metadata) is removed
   * and it becomes a tombstone that keeps model, status, usage and cost for accounting.
   */
  async delete(key: CallKey): Promise<boolean> {
    const res = await this.model
      .updateOne(ownerFilter(key), {
        $set: {
          deletedAt: new Date(),
          metadata: null,
          'commonData.requestRawData': {},
          'commonData.responseRawData': null,
          'commonData.openAIStoredBody': null,
          ...this.contentFields,
        },
      })
      .exec();
    return res.modifiedCount > 0;
  }

  /**
   * The usage tombstone of a call that had no record while it ran (a synchronous store: false call), written once:
   * a second write for the same call (a job run again) changes nothing.
   */
  async putTombstone(record: R): Promise<void> {
    if (!record.userId) throw new Error('userId is required in every filter');
    try {
      // One insert (owner and id are unique): the record's own timestamps, not the write's.
      await this.insertWhole(tombstoneOf(record, this.contentFields));
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
    }
  }

  contentless(record: R): R {
    return tombstoneOf(record, this.contentFields);
  }

  /** Removes a record entirely: only for one that was never enqueued (nothing ran, nothing to account for). */
  async remove(key: CallKey): Promise<void> {
    await this.model.deleteOne(ownerFilter(key)).exec();
  }

  /**
   * Finished calls (completed or incomplete) by day and model, tombstones included. Summed here
   * over an indexed, projected cursor rather than with $group: FerretDB's $group accumulators
   * give wrong sums (measured), and this is exact on both servers.
   */
  async usageByDay(userId: string, fromDay: string, toDay: string): Promise<UsageRow[]> {
    if (!userId) throw new Error('userId is required in every filter');
    const rows = new Map<string, UsageRow>();
    const cursor = this.model
      .find(
        {
          userId,
          day: { $gte: fromDay, $lte: toDay },
          // Finished calls, and calls that ended otherwise after the upstream produced something (billed as such).
          $or: [
            { status: { $in: ['completed', 'incomplete'] } },
            { status: { $in: ['cancelled', 'failed'] }, 'commonData.usage.output_text': { $gt: 0 } },
            { status: { $in: ['cancelled', 'failed'] }, 'commonData.usage.input_text': { $gt: 0 } },
          ],
        },
        { _id: 0, day: 1, model: 1, 'commonData.usage': 1, 'commonData.costCoins': 1 },
      )
      .lean<Pick<CallRecord, 'day' | 'model' | 'commonData'>>()
      .cursor();
    for await (const r of cursor) {
      const key = `${r.day}\u0000${r.model}`;
      const row = rows.get(key) ?? {
        day: r.day,
        model: r.model,
        requests: 0,
        inputTokens: 0,
        outputTokens: 0,
        costCoins: 0,
      };
      row.requests += 1;
      row.inputTokens += r.commonData?.usage?.input_text ?? 0;
      row.outputTokens += r.commonData?.usage?.output_text ?? 0;
      row.costCoins += r.commonData?.costCoins ?? 0;
      rows.set(key, row);
    }
    return [...rows.values()];
  }
}

/** Owner and id, and never a tombstone: every read and write goes through this filter. */
export function ownerFilter(key: CallKey): { userId: string; responseId: string; deletedAt: null } {
  if (!key.userId) throw new Error('userId is required in every filter');
  return { userId: key.userId, responseId: key.responseId, deletedAt: null };
}

function strip<R>(doc: WithId<R>): R {
  const { _id, ...rest } = doc;
  void _id;
  return rest as R;
}
