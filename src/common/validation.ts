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
