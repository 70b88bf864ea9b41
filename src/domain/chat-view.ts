import { unixSeconds } from './ids';
import type { JsonObject } from './json';
import type { ChatCompletionRecord, RecordWithId } from './call';

/**
 * The ChatCompletion for a record. Background jobs (our extension) also carry `status`, and
 * `error` when they failed; before they finish `choices` is empty and `usage` null.
 */
export function toChatCompletion(r: ChatCompletionRecord): JsonObject {
  const stored = r.commonData.openAIStoredBody;
  const base: JsonObject = stored
    ? { ...stored }
    : {
        id: r.responseId,
        object: 'chat.completion',
        created: unixSeconds(r.createdAt),
        model: r.model,
        choices: [],
        usage: null,
      };
  base.metadata = r.metadata ?? {};
  if (r.background) {
    base.status = r.status;
    if (r.error) base.error = r.error;
  }
  return base;
}

/** The request's messages as stored-message items, ids `<completion id>-<index>`. */
export function toStoredMessages(r: ChatCompletionRecord): JsonObject[] {
  const messages = (r.commonData.requestRawData.messages ?? []) as JsonObject[];
  return messages.map((m, i) => {
    const { content, name, ...rest } = m;
    const parts = Array.isArray(content) ? (content as JsonObject[]) : null;
    const text = parts
      ? parts
          .filter((p) => p.type === 'text' && typeof p.text === 'string')
          .map((p) => p.text as string)
          .join('\n') || null
      : typeof content === 'string'
        ? content
        : null;
    return {
      ...rest,
      id: `${r.responseId}-${i}`,
      role: m.role,
      content: text,
      name: name ?? null,
      content_parts: parts,
    };
  });
}

/** OhMyGPT's stored-record item: the record as stored, with its `_id` and ISO timestamps. */
export function toOhMyGptItem(r: RecordWithId): JsonObject {
  return {
    _id: r._id,
    // A number when the user id is one, as in OhMyGPT's documented record.
    userId: /^\d{1,15}$/.test(r.userId) ? Number(r.userId) : r.userId,
    omgUrId: r.omgUrId,
    reqBodyHash: r.reqBodyHash,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
    responseId: r.responseId,
    commonData: r.commonData,
    metadata: r.metadata,
  };
}
