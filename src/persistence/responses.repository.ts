import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { ResponseRecord } from '../domain/call';
import { CallRecordsRepository } from './call-records.repository';
import { RESPONSE_MODEL } from './response.schema';

/** What a later turn needs of an earlier one. */
export type TurnItems = Pick<ResponseRecord, 'responseId' | 'inputItems' | 'output'>;

@Injectable()
export class ResponsesRepository extends CallRecordsRepository<ResponseRecord> {
  constructor(@InjectModel(RESPONSE_MODEL) model: Model<ResponseRecord>) {
    super(model, { inputItems: [], output: [] });
  }

  /** The input and output items of the responses named, in one query, in the order given (a deleted one is left out). */
  async findChain(userId: string, ids: string[]): Promise<TurnItems[]> {
    if (!userId) throw new Error('userId is required in every filter');
    if (ids.length === 0) return [];
    const docs = await this.model
      .find({ userId, responseId: { $in: ids }, deletedAt: null }, { _id: 0, responseId: 1, inputItems: 1, output: 1 })
      .lean<TurnItems[]>()
      .exec();
    const byId = new Map(docs.map((d) => [d.responseId, d]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /**
   * SYSTEM USE ONLY (the recovery sweep): finished turns of a conversation whose items were not appended to it (the
   * worker stopped between its two writes), oldest first.
   */
  async findUnappendedTurns(before: Date, limit: number): Promise<ResponseRecord[]> {
    return this.model
      .find({
        conversationAppendedAt: null,
        conversationId: { $ne: null },
        status: { $in: ['completed', 'incomplete'] },
        updatedAt: { $lt: before },
      })
      .sort({ updatedAt: 1 })
      .limit(limit)
      .lean<ResponseRecord[]>()
      .exec();
  }
}
