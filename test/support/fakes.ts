/**
 * Fakes for unit tests of decisions (no Redis, no MongoDB): an object with just the members a test gives. Calling any
 * other member fails loudly (it is undefined), so a fake never hides a dependency the code under test really uses.
 */
import pino from 'pino';
import { loadConfig, type AppConfig } from '../../src/config/app-config';
import type { CallKey, CallRecord, CallStatus, ChatCompletionRecord } from '../../src/domain/call';
import { newCallRecord } from '../../src/domain/call';

export const fake = <T>(members: Partial<T>): T => members as T;

export const silentLogger = pino({ level: 'silent' });

export function testConfig(env: Record<string, string> = {}): AppConfig {
  const base = {
    REDIS_URL: 'redis://127.0.0.1:1',
    MONGODB_URI: 'mongodb://127.0.0.1:1/x',
    UPSTREAM_BASE_URL: 'http://x',
  };
  return loadConfig({ ...base, API_KEYS: 'sk-test:u1', ...env }, 'api');
}

export function chatRecord(over: Partial<ChatCompletionRecord> = {}): ChatCompletionRecord {
  const created = new Date('2026-01-01T00:00:00Z');
  return {
    ...newCallRecord({
      userId: 'u1',
      keyId: 'key_1',
      responseId: 'chatcmpl-1',
      requestId: 'req_1',
      reqBodyHash: 'h',
      userAgent: null,
      reqIp: null,
      request: { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
      model: 'm',
      metadata: null,
      background: false,
      store: false,
    }),
    createdAt: created,
    updatedAt: created,
    ...over,
  };
}

/** An in-memory record store with the repository's conditional semantics (owner, status, tombstones). */
export class MemoryStore<R extends CallRecord> {
  readonly records = new Map<string, R>();
  readonly deleted: string[] = [];

  put(record: R): void {
    this.records.set(record.responseId, record);
  }

  async find(key: CallKey): Promise<R | null> {
    const r = this.records.get(key.responseId);
    return r && r.userId === key.userId && !r.deletedAt ? { ...r } : null;
  }

  async transition(key: CallKey, from: readonly CallStatus[], changes: Partial<R>): Promise<R | null> {
    const r = await this.find(key);
    if (!r || !from.includes(r.status)) return null;
    const next = applySet(r, changes);
    this.records.set(key.responseId, next);
    return next;
  }

  async wasWritten(key: CallKey): Promise<boolean> {
    return this.records.get(key.responseId)?.userId === key.userId;
  }

  async remove(key: CallKey): Promise<void> {
    if (this.records.get(key.responseId)?.userId === key.userId) this.records.delete(key.responseId);
  }

  async delete(key: CallKey): Promise<boolean> {
    const r = await this.find(key);
    if (!r) return false;
    this.records.set(key.responseId, {
      ...r,
      deletedAt: new Date(),
      commonData: { ...r.commonData, requestRawData: {} },
    });
    this.deleted.push(key.responseId);
    return true;
  }
}

/** MongoDB's `$set`, dotted paths (`commonData.usage`) included. */
function applySet<R extends object>(doc: R, changes: object): R {
  const out = structuredClone(doc) as Record<string, unknown>;
  for (const [path, value] of Object.entries(changes)) {
    const parts = path.split('.');
    let at = out;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[parts[parts.length - 1]] = value;
  }
  return out as R;
}
