import { Schema } from 'mongoose';
import type { ConversationItemRecord, ConversationRecord } from '../domain/conversation';

export const CONVERSATION_MODEL = 'ConversationRecord';
export const CONVERSATION_ITEM_MODEL = 'ConversationItemRecord';

const { Mixed } = Schema.Types;

export const ConversationSchema = new Schema<ConversationRecord>(
  {
    userId: { type: String, required: true },
    conversationId: { type: String, required: true },
    metadata: { type: Mixed, default: null },
    nextSeq: { type: Number, default: 0 },
    deletedAt: { type: Date, default: null },
  },
  { collection: 'conversations', timestamps: true, minimize: false, versionKey: false },
);
ConversationSchema.index({ userId: 1, conversationId: 1 }, { unique: true });

export const ConversationItemSchema = new Schema<ConversationItemRecord>(
  {
    userId: { type: String, required: true },
    conversationId: { type: String, required: true },
    itemId: { type: String, required: true },
    seq: { type: Number, required: true },
    item: { type: Mixed, required: true },
    responseId: { type: String, default: null },
    createdAt: { type: Date, required: true },
  },
  { collection: 'conversation_items', minimize: false, versionKey: false },
);
// A conversation's items in order, by owner; an item id names one item of one owner.
ConversationItemSchema.index({ userId: 1, conversationId: 1, seq: 1 }, { unique: true });
ConversationItemSchema.index({ userId: 1, itemId: 1 }, { unique: true });
