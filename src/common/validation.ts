import { ApiError } from './api-error';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const METADATA_LIMITS = { pairs: 16, keyLength: 64, valueLength: 512 };

/** OpenAI's metadata rule: at most 16 string pairs, keys up to 64 and values up to 512 chars. */
export function validateMetadata(value: unknown, param = 'metadata'): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw ApiError.invalidType(param, 'an object', value);
  const entries = Object.entries(value);
  if (entries.length > METADATA_LIMITS.pairs) {
    throw ApiError.badRequest(
      `Invalid '${param}': too many properties. Expected an object with at most ${METADATA_LIMITS.pairs} properties, but got an object with ${entries.length} properties instead.`,
      param,
      'object_above_max_properties',
    );
  }
  for (const [key, v] of entries) {
    // BSON cannot hold a NUL in a field name; the list filter refuses such keys too.
    if (key.includes('\u0000')) throw ApiError.badRequest(`Invalid '${param}': metadata keys must not contain NUL characters.`, param, 'invalid_value');
    if (key.length > METADATA_LIMITS.keyLength) {
      throw ApiError.badRequest(
        `Invalid '${param}': metadata keys must be at most ${METADATA_LIMITS.keyLength} characters, but a key has ${key.length}.`,
        param,
        'string_above_max_length',
      );
    }
    if (typeof v !== 'string') throw ApiError.invalidType(`${param}.${key}`, 'a string', v);
    if (v.length > METADATA_LIMITS.valueLength) {
      throw ApiError.badRequest(
        `Invalid '${param}.${key}': string too long. Expected a string with maximum length ${METADATA_LIMITS.valueLength}, but got a string with length ${v.length} instead.`,
        `${param}.${key}`,
        'string_above_max_length',
      );
    }
  }
  return value as Record<string, string>;
}

export function optionalBoolean(body: JsonObject, param: string): boolean | undefined {
  const v = body[param];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw ApiError.invalidType(param, 'a boolean', v);
  return v;
}

export function optionalString(body: JsonObject, param: string): string | undefined {
  const v = body[param];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw ApiError.invalidType(param, 'a string', v);
  return v;
}

export interface ListQuery {
  after: string | undefined;
  limit: number;
  order: 'asc' | 'desc';
}

/** Cursor-list query parameters shared by every list endpoint. */
export function parseListQuery(query: Record<string, unknown>, defaults: { order: 'asc' | 'desc'; limit: number; max: number }): ListQuery {
  const rawLimit = query.limit;
  let limit = defaults.limit;
  if (rawLimit !== undefined) {
    const n = typeof rawLimit === 'string' && /^\d+$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > defaults.max) {
      throw ApiError.badRequest(
        `Invalid 'limit': expected an integer between 1 and ${defaults.max}, but got ${JSON.stringify(rawLimit)}.`,
        'limit',
        'invalid_value',
      );
    }
    limit = n;
  }
  const rawOrder = query.order;
  let order = defaults.order;
  if (rawOrder !== undefined) {
    if (rawOrder !== 'asc' && rawOrder !== 'desc') {
      throw ApiError.badRequest(`Invalid 'order': expected 'asc' or 'desc', but got ${JSON.stringify(rawOrder)}.`, 'order', 'invalid_value');
    }
    order = rawOrder;
  }
  const rawAfter = query.after;
  if (rawAfter !== undefined && (typeof rawAfter !== 'string' || rawAfter.length === 0 || rawAfter.length > 128)) {
    throw ApiError.badRequest(`Invalid 'after': expected an id string.`, 'after', 'invalid_value');
  }
  return { after: rawAfter as string | undefined, limit, order };
}

/** Deepest nesting of objects and arrays accepted in a stored request (MongoDB allows 100 levels per document). */
export const MAX_JSON_DEPTH = 64;
/**
 * Largest request content (as BSON) that is stored with a call; a MongoDB document holds at most
 * 16 MiB, and the rest is left for the answer the worker writes into the same record.
 */
export const MAX_STORED_REQUEST_BYTES = 12 * 1024 * 1024;

/**
 * Request content is stored as (part of) a MongoDB document and sent upstream as JSON: refuses
 * with a 400 what neither can take (nesting deeper than MAX_JSON_DEPTH, NUL in a key, a number
 * that JSON cannot carry, such as 1e400 parsed to Infinity), and with a 413 content whose BSON
 * size (`alsoStored` included: parts of it the record keeps a second copy of) exceeds
 * MAX_STORED_REQUEST_BYTES.
 */
export function checkStorable(body: JsonObject, alsoStored: unknown[] = []): void {
  const size = [body, ...alsoStored].reduce<number>((n, part) => n + storedSize(part), 0);
  if (size > MAX_STORED_REQUEST_BYTES) {
    throw new ApiError(413, `The request is too large to be stored: about ${size} bytes as BSON, at most ${MAX_STORED_REQUEST_BYTES}.`, 'invalid_request_error', null, 'request_too_large');
  }
}

/**
 * Checks a JSON value (see checkStorable) and returns its BSON size (an upper bound). Iterative,
 * depth-first with one frame per open container, so a hostile depth costs no stack and memory
 * follows the depth, not the size.
 */
function storedSize(value: unknown): number {
  if (typeof value !== 'object' || value === null) return scalarSize(value);
  type Frame = { container: Record<string, unknown> | unknown[]; keys: string[] | null; next: number };
  const open = (container: object): Frame =>
    Array.isArray(container) ? { container, keys: null, next: 0 } : { container: container as Record<string, unknown>, keys: Object.keys(container), next: 0 };
  const stack: Frame[] = [open(value)];
  // The path of the value being looked at, as `a.b[0].c`.
  const path = (): string =>
    stack
      .map((f) => (f.keys ? `.${f.keys[f.next - 1]}` : `[${f.next - 1}]`))
      .join('')
      .replace(/^\./, '')
      .slice(0, 256);
  let size = 5; // a document: length and terminator
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const length = top.keys ? top.keys.length : (top.container as unknown[]).length;
    if (top.next >= length) {
      stack.pop();
      continue;
    }
    const key = top.keys ? top.keys[top.next] : top.next;
    top.next++;
    const child = (top.container as Record<string | number, unknown>)[key];
    // Each element: a type byte, its name as a C string, its value.
    size += 2 + (typeof key === 'string' ? Buffer.byteLength(key) : String(key).length);
    if (typeof key === 'string' && key.includes('\u0000')) throw ApiError.badRequest(`Invalid '${path()}': field names must not contain NUL characters.`, path(), 'invalid_value');
    if (typeof child === 'number' && !Number.isFinite(child)) throw ApiError.badRequest(`Invalid '${path()}': number out of range.`, path(), 'invalid_value');
    if (typeof child !== 'object' || child === null) {
      size += scalarSize(child);
      continue;
    }
    if (stack.length >= MAX_JSON_DEPTH) {
      throw ApiError.badRequest(`Invalid '${path()}': JSON nested deeper than ${MAX_JSON_DEPTH} levels.`, path(), 'nesting_too_deep');
    }
    size += 5;
    stack.push(open(child));
  }
  return size;
}

function scalarSize(value: unknown): number {
  if (typeof value === 'string') return 5 + Buffer.byteLength(value);
  if (typeof value === 'number') return 8;
  if (typeof value === 'boolean') return 1;
  return 0;
}
