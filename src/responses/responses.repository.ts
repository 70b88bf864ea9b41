import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { RESPONSE_MODEL, type ResponseRecord, type ResponseStatus } from './response.schema';

/** The owner is part of every filter: there is no way to read a response without its userId. */
export interface ResponseKey {
  userId: string;
  responseId: string;
}

export type NewResponse = Omit<ResponseRecord, 'createdAt' | 'updatedAt'>;
export type ResponseChanges = Partial<Omit<ResponseRecord, 'userId' | 'responseId' | 'createdAt' | 'updatedAt'>>;

@Injectable()
export class ResponsesRepository {
  constructor(@InjectModel(RESPONSE_MODEL) private readonly model: Model<ResponseRecord>) {}

  async insert(record: NewResponse): Promise<ResponseRecord> {
    const created = await this.model.create(record);
    return strip(created.toObject() as ResponseRecord);
  }

  async find(key: ResponseKey): Promise<ResponseRecord | null> {
    const doc = await this.model.findOne(filter(key)).lean<ResponseRecord>().exec();
    return doc ? strip(doc) : null;
  }

  /**
   * The only way a status changes: a single conditional update from one of the expected
   * statuses. Returns the updated record, or null when the record was not in an expected status
   * (cancelled meanwhile, already finished, or deleted), so terminal states are never overwritten.
   */
  async transition(key: ResponseKey, from: readonly ResponseStatus[], changes: ResponseChanges): Promise<ResponseRecord | null> {
    const doc = await this.model
      .findOneAndUpdate({ ...filter(key), status: { $in: [...from] } }, { $set: changes }, { returnDocument: 'after' })
      .lean<ResponseRecord>()
      .exec();
    return doc ? strip(doc) : null;
  }

  /** Adds to the upstream call counter without touching the status. */
  async countUpstreamCall(key: ResponseKey): Promise<void> {
    await this.model.updateOne(filter(key), { $inc: { upstreamCalls: 1 } }).exec();
  }

  async delete(key: ResponseKey): Promise<boolean> {
    const res = await this.model.deleteOne(filter(key)).exec();
    return res.deletedCount > 0;
  }

  async ensureIndexes(): Promise<void> {
    await this.model.createIndexes();
  }
}

function filter(key: ResponseKey): { userId: string; responseId: string } {
  if (!key.userId) throw new Error('ResponsesRepository: userId is required in every filter');
  return { userId: key.userId, responseId: key.responseId };
}

/** Plain objects out: the storage-internal _id stays behind the repository. */
function strip(doc: ResponseRecord & { _id?: unknown }): ResponseRecord {
  const { _id, ...rest } = doc;
  void _id;
  return rest;
}
