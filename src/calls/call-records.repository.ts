import type { Model, Types } from 'mongoose';
import type { CallChanges, CallKey, CallRecord, CallStatus, NewCall } from './call-record';

/** A record as the repository hands it out: a plain object; `_id` only where a cursor needs it. */
type WithId<R> = R & { _id?: Types.ObjectId };

/**
 * Storage of one kind of call. Mongoose stays in here; services get plain objects. There is no
 * method that takes an id without its owner.
 */
export abstract class CallRecordsRepository<R extends CallRecord> {
  protected constructor(protected readonly model: Model<R>) {}

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

  /** Changes fields other than the status (e.g. metadata), whatever the status. */
  async update(key: CallKey, changes: CallChanges<R>): Promise<R | null> {
    const doc = await this.model.findOneAndUpdate(ownerFilter(key), { $set: changes }, { returnDocument: 'after' }).lean<WithId<R>>().exec();
    return doc ? strip(doc) : null;
  }

  async countUpstreamCall(key: CallKey): Promise<void> {
    await this.model.updateOne(ownerFilter(key), { $inc: { upstreamCalls: 1 } }).exec();
  }

  async delete(key: CallKey): Promise<boolean> {
    const res = await this.model.deleteOne(ownerFilter(key)).exec();
    return res.deletedCount > 0;
  }
}

export function ownerFilter(key: CallKey): { userId: string; responseId: string } {
  if (!key.userId) throw new Error('userId is required in every filter');
  return { userId: key.userId, responseId: key.responseId };
}

function strip<R>(doc: WithId<R>): R {
  const { _id, ...rest } = doc;
  void _id;
  return rest as R;
}
