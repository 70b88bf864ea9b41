import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, QueryFilter, Types } from 'mongoose';
import type { ChatCompletionRecord, RecordWithId } from '../domain/call';
import { CallRecordsRepository } from './call-records.repository';
import { CHAT_COMPLETION_MODEL } from './chat-completion.schema';

export interface StoredListQuery {
  userId: string;
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
  model?: string;
  metadata?: Record<string, string>;
}

export interface PageQuery {
  userId: string;
  page: number;
  pageSize: number;
  newestFirst: boolean;
  models?: string[];
  responseId?: string;
  omgUrId?: string;
}

@Injectable()
export class ChatCompletionsRepository extends CallRecordsRepository<ChatCompletionRecord> {
  constructor(@InjectModel(CHAT_COMPLETION_MODEL) model: Model<ChatCompletionRecord>) {
    super(model);
  }

  /**
   * Stored completions in creation order, keyset-paginated on (createdAt, _id) after the
   * record named by `after`; never `skip`. Returns null when `after` names no stored record.
   */
  async listStored(q: StoredListQuery): Promise<{ records: ChatCompletionRecord[]; hasMore: boolean } | null> {
    const and: Record<string, unknown>[] = [{ userId: q.userId, store: true, deletedAt: null }];
    if (q.model !== undefined)
      and.push({ $or: [{ model: q.model }, { 'commonData.openAIStoredBody.model': q.model }] });
    for (const [k, v] of Object.entries(q.metadata ?? {})) and.push({ [`metadata.${k}`]: v });
    if (q.after !== undefined) {
      const anchor = await this.model
        .findOne({ userId: q.userId, responseId: q.after, store: true, deletedAt: null }, { createdAt: 1 })
        .lean<{ _id: Types.ObjectId; createdAt: Date }>()
        .exec();
      if (!anchor) return null;
      const op = q.order === 'asc' ? '$gt' : '$lt';
      and.push({
        $or: [{ createdAt: { [op]: anchor.createdAt } }, { createdAt: anchor.createdAt, _id: { [op]: anchor._id } }],
      });
    }
    const dir = q.order === 'asc' ? 1 : -1;
    const docs = await this.model
      .find({ $and: and } as QueryFilter<ChatCompletionRecord>)
      .sort({ createdAt: dir, _id: dir })
      .limit(q.limit + 1)
      .lean<(ChatCompletionRecord & { _id: unknown })[]>()
      .exec();
    const records = docs.slice(0, q.limit).map(({ _id, ...rest }) => (void _id, rest as ChatCompletionRecord));
    return { records, hasMore: docs.length > q.limit };
  }

  /** OhMyGPT's page-numbered list of stored completions, with the total for page arithmetic. */
  async page(q: PageQuery): Promise<{ total: number; items: RecordWithId[] }> {
    const filter: Record<string, unknown> = { userId: q.userId, store: true, deletedAt: null };
    if (q.models && q.models.length > 0) filter.model = { $in: q.models };
    if (q.responseId !== undefined) filter.responseId = q.responseId;
    if (q.omgUrId !== undefined) filter.omgUrId = q.omgUrId;
    const dir = q.newestFirst ? -1 : 1;
    const [total, docs] = await Promise.all([
      this.model.countDocuments(filter as QueryFilter<ChatCompletionRecord>).exec(),
      this.model
        .find(filter as QueryFilter<ChatCompletionRecord>)
        .sort({ createdAt: dir, _id: dir })
        .skip((q.page - 1) * q.pageSize)
        .limit(q.pageSize)
        .lean<(ChatCompletionRecord & { _id: Types.ObjectId })[]>()
        .exec(),
    ]);
    return { total, items: docs.map((d) => ({ ...d, _id: d._id.toString() })) };
  }

  async findWithId(userId: string, responseId: string): Promise<RecordWithId | null> {
    const doc = await this.model
      .findOne({ userId, responseId, deletedAt: null })
      .lean<ChatCompletionRecord & { _id: Types.ObjectId }>()
      .exec();
    return doc ? { ...doc, _id: doc._id.toString() } : null;
  }
}
