import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { ConversationItemRecord, ConversationRecord } from '../domain/conversation';
import type { JsonObject } from '../domain/json';
import type { ListQuery } from '../domain/list';
import { CONVERSATION_ITEM_MODEL, CONVERSATION_MODEL } from './conversation.schema';

type Key = { userId: string; conversationId: string };
const live = (k: Key) => {
  if (!k.userId) throw new Error('userId is required in every filter');
  return { userId: k.userId, conversationId: k.conversationId, deletedAt: null };
};
const isDuplicateKey = (err: unknown) =>
  (err as { code?: unknown })?.code === 11000 ||
  ((err as { writeErrors?: { code?: number }[] })?.writeErrors ?? []).every((e) => e.code === 11000);

/** Conversations and their items; every filter names the owner. */
@Injectable()
export class ConversationsRepository {
  constructor(
    @InjectModel(CONVERSATION_MODEL) private readonly conversations: Model<ConversationRecord>,
    @InjectModel(CONVERSATION_ITEM_MODEL) private readonly items: Model<ConversationItemRecord>,
  ) {}

  async create(key: Key, metadata: Record<string, string> | null, items: JsonObject[]): Promise<ConversationRecord> {
    const doc = await this.conversations.create({ ...key, metadata, nextSeq: items.length, deletedAt: null });
    await this.insertItems(key, 0, items, null);
    return doc.toObject();
  }

  async find(key: Key): Promise<ConversationRecord | null> {
    return this.conversations.findOne(live(key)).lean<ConversationRecord>().exec();
  }

  async updateMetadata(key: Key, metadata: Record<string, string> | null): Promise<ConversationRecord | null> {
    return this.conversations
      .findOneAndUpdate(live(key), { $set: { metadata } }, { returnDocument: 'after' })
      .lean<ConversationRecord>()
      .exec();
  }

  /** Deletes a conversation and its items (the responses made in it stay). */
  async delete(key: Key): Promise<boolean> {
    const res = await this.conversations
      .updateOne(live(key), { $set: { deletedAt: new Date(), metadata: null } })
      .exec();
    if (res.modifiedCount === 0) return false;
    await this.items.deleteMany({ userId: key.userId, conversationId: key.conversationId }).exec();
    return true;
  }

  /**
   * Appends items at the end, in one block of consecutive positions reserved with a single atomic increment: turns
   * finishing at once each get their own block, in the order they finished, and nothing is lost. An item already there
   * (a repeated append of the same turn) is skipped. Null when the conversation is gone.
   */
  async append(key: Key, items: JsonObject[], responseId: string | null): Promise<ConversationItemRecord[] | null> {
    if (items.length === 0) return (await this.find(key)) ? [] : null;
    const before = await this.conversations
      .findOneAndUpdate(live(key), { $inc: { nextSeq: items.length } }, { returnDocument: 'before' })
      .lean<ConversationRecord>()
      .exec();
    if (!before) return null;
    return this.insertItems(key, before.nextSeq, items, responseId);
  }

  /** Every item in order, for building a turn's context. */
  async allItems(key: Key): Promise<JsonObject[]> {
    const docs = await this.items.find(key, { _id: 0, item: 1 }).sort({ seq: 1 }).lean<{ item: JsonObject }[]>().exec();
    return docs.map((d) => d.item);
  }

  /** A cursor page of items; null when `after` names no item of the conversation. */
  async page(key: Key, q: ListQuery): Promise<{ items: JsonObject[]; hasMore: boolean } | null> {
    const filter: Record<string, unknown> = { ...key };
    if (q.after !== undefined) {
      const anchor = await this.items
        .findOne({ ...key, itemId: q.after }, { seq: 1 })
        .lean<{ seq: number }>()
        .exec();
      if (!anchor) return null;
      filter.seq = q.order === 'asc' ? { $gt: anchor.seq } : { $lt: anchor.seq };
    }
    const docs = await this.items
      .find(filter, { _id: 0, item: 1 })
      .sort({ seq: q.order === 'asc' ? 1 : -1 })
      .limit(q.limit + 1)
      .lean<{ item: JsonObject }[]>()
      .exec();
    return { items: docs.slice(0, q.limit).map((d) => d.item), hasMore: docs.length > q.limit };
  }

  async findItem(key: Key, itemId: string): Promise<JsonObject | null> {
    const doc = await this.items
      .findOne({ ...key, itemId }, { _id: 0, item: 1 })
      .lean<{ item: JsonObject }>()
      .exec();
    return doc?.item ?? null;
  }

  async deleteItem(key: Key, itemId: string): Promise<boolean> {
    return (await this.items.deleteOne({ ...key, itemId }).exec()).deletedCount > 0;
  }

  private async insertItems(key: Key, from: number, items: JsonObject[], responseId: string | null) {
    const now = new Date();
    const docs = items.map((item, i) => ({
      ...key,
      itemId: String(item.id),
      seq: from + i,
      item,
      responseId,
      createdAt: now,
    }));
    try {
      await this.items.insertMany(docs, { ordered: false });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    return docs;
  }
}
