import { unixSeconds } from './ids';
import type { JsonObject } from './json';

/** A conversation: a thread of items that turns read from and append to. */
export interface ConversationRecord {
  userId: string;
  conversationId: string;
  metadata: Record<string, string> | null;
  /** The next item's position; items of one append take consecutive positions. */
  nextSeq: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

/** One item of a conversation, at its position. */
export interface ConversationItemRecord {
  userId: string;
  conversationId: string;
  itemId: string;
  seq: number;
  /** The item as the API shows it (`id` included). */
  item: JsonObject;
  /** The response whose turn appended it (null for items added through the API). */
  responseId: string | null;
  createdAt: Date;
}

export const toConversation = (c: ConversationRecord): JsonObject => ({
  id: c.conversationId,
  object: 'conversation',
  created_at: unixSeconds(c.createdAt),
  metadata: c.metadata ?? {},
});

export const conversationDeleted = (id: string): JsonObject => ({ id, object: 'conversation.deleted', deleted: true });

/** Items as a conversation keeps them: messages carry a status, as OpenAI shows them. */
export function asConversationItems(items: JsonObject[]): JsonObject[] {
  return items.map((item) =>
    item.type === 'message' && item.status === undefined ? { ...item, status: 'completed' } : item,
  );
}

/** Output item types a later turn can be given back as input. */
const REPLAYABLE = new Set(['message', 'function_call', 'function_call_output']);

/**
 * A stored item as input to a later turn: messages, function calls and their outputs; reasoning items only when they
 * carry `encrypted_content` (without it an upstream cannot take them back). Our own ids are left out, since the
 * upstream has never seen them; a reasoning item keeps its upstream id, which its encrypted content is tied to.
 */
export function asReplayInput(item: JsonObject): JsonObject | null {
  const type = typeof item.type === 'string' ? item.type : 'message';
  if (type === 'reasoning') return typeof item.encrypted_content === 'string' ? item : null;
  if (!REPLAYABLE.has(type)) return null;
  const { id: _id, status: _status, ...rest } = item;
  return { ...rest, type };
}
