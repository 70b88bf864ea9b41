import { Injectable } from '@nestjs/common';
import type { Caller } from '../auth/api-keys.service';
import { CallLifecycle } from '../calls/call-lifecycle.service';
import { ACTIVE_STATUSES, keyOf } from '../calls/call-record';
import { ApiError } from '../common/api-error';
import { isPlausibleId } from '../common/ids';
import type { JsonObject } from '../common/validation';
import { ChatCallKind } from './chat-call.kind';
import type { RecordWithId } from './chat-completions.repository';
import { toOhMyGptItem } from './chat-view';

/** `sort` values: newest first by default (`-createdAt`, `desc`), or oldest first. */
const SORTS: Record<string, boolean> = { '': true, desc: true, '-createdAt': true, asc: false, createdAt: false };

@Injectable()
export class OhMyGptStoreService {
  constructor(private readonly kind: ChatCallKind, private readonly calls: CallLifecycle) {}

  async list(caller: Caller, form: JsonObject): Promise<JsonObject> {
    const page = intField(form, 'page', 1, 1, 1_000_000);
    const pageSize = intField(form, 'pageSize', 20, 1, 100);
    const sort = strField(form, 'sort') ?? '';
    if (!Object.hasOwn(SORTS, sort)) throw ApiError.badRequest(`Invalid 'sort': use one of ${Object.keys(SORTS).filter(Boolean).join(', ')}.`, 'sort');
    const models = [...listField(form, 'models'), ...(strField(form, 'model') ? [strField(form, 'model')!] : [])];
    const result = await this.kind.repo.page({
      userId: caller.userId,
      page,
      pageSize,
      newestFirst: SORTS[sort],
      models,
      responseId: strField(form, 'responseId'),
      omgUrId: strField(form, 'omgUrId'),
    });
    return { page, pageSize, total: result.total, totalPages: Math.ceil(result.total / pageSize), items: result.items.map(toOhMyGptItem) };
  }

  async get(caller: Caller, form: JsonObject): Promise<JsonObject> {
    return toOhMyGptItem(await this.stored(caller, form));
  }

  async delete(caller: Caller, form: JsonObject): Promise<JsonObject> {
    const record = await this.stored(caller, form);
    if (ACTIVE_STATUSES.includes(record.status)) await this.calls.stop(this.kind, keyOf(record));
    if (!(await this.kind.repo.delete(keyOf(record)))) throw notFound(record.responseId);
    return { responseId: record.responseId, deleted: true };
  }

  private async stored(caller: Caller, form: JsonObject): Promise<RecordWithId> {
    const responseId = strField(form, 'responseId');
    if (!responseId) throw ApiError.missingParam('responseId');
    if (!isPlausibleId(responseId)) throw notFound(responseId.slice(0, 64));
    const record = await this.kind.repo.findWithId(caller.userId, responseId);
    if (!record || !record.store) throw notFound(responseId);
    return record;
  }
}

const notFound = (id: string) => ApiError.notFound(`Chat completion with responseId '${id}' not found.`);

/** Form fields arrive as strings; an empty string (as OhMyGPT's own examples send) means absent. */
function strField(form: JsonObject, name: string): string | undefined {
  const v = form[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string' || v.length > 256) throw ApiError.badRequest(`Invalid '${name}': expected a string.`, name);
  return v;
}

function intField(form: JsonObject, name: string, def: number, min: number, max: number): number {
  const v = strField(form, name);
  if (v === undefined) return def;
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw ApiError.badRequest(`Invalid '${name}': expected an integer from ${min} to ${max}, got '${v}'.`, name);
  return n;
}

/** `models=a&models=b`, `models[]=a`, `models=a,b` or a JSON array. */
function listField(form: JsonObject, name: string): string[] {
  const v = form[name];
  if (v === undefined || v === null || v === '') return [];
  const values = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : null;
  if (!values || values.some((x) => typeof x !== 'string' || x.length > 256)) throw ApiError.badRequest(`Invalid '${name}': expected model names.`, name);
  return (values as string[]).map((x) => x.trim()).filter(Boolean);
}
