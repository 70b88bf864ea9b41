import type { Model, PipelineStage, Types } from 'mongoose';
import { ACTIVE_STATUSES, type CallChanges, type CallKey, type CallRecord, type CallStatus, type NewCall } from './call-record';

/** Usage of one model on one day. */
export interface UsageRow {
  day: string;
  model: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costCoins: number;
}

/** A record as the repository hands it out: a plain object; `_id` only where a cursor needs it. */
type WithId<R> = R & { _id?: Types.ObjectId };

/**
 * Storage of one kind of call. Mongoose stays in here; services get plain objects. There is no
 * method that takes an id without its owner.
 */
export abstract class CallRecordsRepository<R extends CallRecord> {
  /** @param contentFields this kind's own content fields and their empty values, removed on delete. */
  protected constructor(protected readonly model: Model<R>, private readonly contentFields: Record<string, unknown> = {}) {}

  async insert(record: NewCall<R>): Promise<R> {
    const created = await new this.model(record).save();
    return strip(created.toObject() as WithId<R>);
  }

  async find(key: CallKey): Promise<R | null> {
    const doc = await this.model.findOne(ownerFilter(key)).lean<WithId<R>>().exec();
    return doc ? strip(doc) : null;
  }

  /**
   * The only way a status changes: one conditional update from an expected status. Null when
   * the record was not in one (cancelled meanwhile, finished, or deleted), so a terminal state
   * is never overwritten and a late result is never written.
   */
  async transition(key: CallKey, from: readonly CallStatus[], changes: CallChanges<R>): Promise<R | null> {
    const doc = await this.model
      .findOneAndUpdate({ ...ownerFilter(key), status: { $in: [...from] } }, { $set: changes }, { returnDocument: 'after' })
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
    const doc = await this.model.findOneAndUpdate(ownerFilter(key), { $set: changes }, { returnDocument: 'after' }).lean<WithId<R>>().exec();
    return doc ? strip(doc) : null;
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

  /** Finished calls (completed or incomplete) by day and model, tombstones included. */
  async usageByDay(userId: string, fromDay: string, toDay: string): Promise<UsageRow[]> {
    if (!userId) throw new Error('userId is required in every filter');
    const pipeline: PipelineStage[] = [
      { $match: { userId, day: { $gte: fromDay, $lte: toDay }, status: { $in: ['completed', 'incomplete'] } } },
      {
        $group: {
          _id: { day: '$day', model: '$model' },
          requests: { $sum: 1 },
          inputTokens: { $sum: '$commonData.usage.input_text' },
          outputTokens: { $sum: '$commonData.usage.output_text' },
          costCoins: { $sum: '$commonData.costCoins' },
        },
      },
    ];
    const rows = await this.model.aggregate<{ _id: { day: string; model: string }; requests: number; inputTokens: number; outputTokens: number; costCoins: number }>(pipeline).exec();
    return rows.map(({ _id, ...sums }) => ({ day: _id.day, model: _id.model, ...sums }));
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
