/**
 * Calls that keep nothing: a synchronous `store: false` call has no reader after its answer, so its record never goes
 * to MongoDB while it runs. The record travels in its job (and is removed with it), the worker hands the finished
 * record back over Redis, and only the usage tombstone is written to MongoDB, by the worker, after the answer.
 */
import type { CallRecord, NewCall } from './call';

const DATE_FIELDS = ['createdAt', 'updatedAt', 'startedAt', 'completedAt', 'cancelledAt', 'deletedAt'] as const;

/** Whether a call runs without a MongoDB record: synchronous, kept nowhere, not a conversation turn. */
export function isEphemeral(r: { store: boolean; background: boolean; conversationId?: string | null }): boolean {
  return !r.store && !r.background && !r.conversationId;
}

/** A record read back from JSON (a job's data, a result in Redis): its dates are dates again. */
export function revive<R extends CallRecord>(json: Record<string, unknown>): R {
  const out = new Map<string, unknown>(Object.entries(json));
  for (const f of DATE_FIELDS) {
    const v = out.get(f);
    if (typeof v === 'string' || typeof v === 'number') out.set(f, new Date(v));
  }
  return Object.assign({} as R, Object.fromEntries(out));
}

/** A fresh record as it is before MongoDB would have stamped it: its timestamps are set here. */
export function stamped<R extends CallRecord>(record: NewCall<R>, now = new Date()): R {
  return { ...record, createdAt: now, updatedAt: now } as R;
}

/**
 * A `$set` applied to a record in memory: top-level fields, or one level of dotted path into an object field
 * (`commonData.usage`).
 */
export function applyChanges<R extends CallRecord>(record: R, changes: Record<string, unknown>, now = new Date()): R {
  const out = new Map<string, unknown>(Object.entries(record));
  for (const [path, value] of Object.entries(changes)) {
    const dot = path.indexOf('.');
    if (dot < 0) {
      out.set(path, value);
      continue;
    }
    const head = path.slice(0, dot);
    const inner = new Map<string, unknown>(Object.entries((out.get(head) ?? {}) as object));
    inner.set(path.slice(dot + 1), value);
    out.set(head, Object.fromEntries(inner));
  }
  out.set('updatedAt', now);
  return { ...record, ...Object.fromEntries(out) };
}

/**
 * What the worker hands back over Redis: the finished record without the request (the api holds it already, so the
 * client's input is not copied into Redis a second time).
 */
export function resultOf(record: CallRecord): object {
  const { inputItems: _items, ...rest } = record as CallRecord & { inputItems?: unknown };
  void _items;
  return { ...rest, commonData: { ...record.commonData, requestRawData: {} } };
}

/** The finished record, from the api's own copy of the request and the worker's result. */
export function withResult<R extends CallRecord>(own: R, result: Record<string, unknown>): R {
  const done = revive<R>(result);
  const merged = {
    ...done,
    commonData: { ...done.commonData, requestRawData: own.commonData.requestRawData },
  } as R & { inputItems?: unknown };
  if ('inputItems' in own) merged.inputItems = (own as R & { inputItems: unknown }).inputItems;
  return merged;
}

/**
 * The usage tombstone of a finished call: what a deleted record keeps (model, status, usage, cost, day), its content
 * gone. `contentFields` are the kind's own content fields and their empty values.
 */
export function tombstoneOf<R extends CallRecord>(
  record: R,
  contentFields: Record<string, unknown>,
  now = new Date(),
): R {
  return {
    ...record,
    ...contentFields,
    metadata: null,
    deletedAt: now,
    updatedAt: now,
    commonData: { ...record.commonData, requestRawData: {}, responseRawData: null, openAIStoredBody: null },
  };
}
