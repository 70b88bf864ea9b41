import { z } from 'zod';
import type { ListQuery } from '../list';
import type { IssueParams } from './parse';

/** Adds a problem with our own wording to a refinement. */
export function addProblem(
  ctx: z.RefinementCtx,
  message: string,
  path: PropertyKey[] = [],
  params: IssueParams = {},
): void {
  ctx.addIssue({ code: 'custom', message, path, params });
}

/** An admin body that may hold only `fields` (anything else refused by name), then parsed by `shape`. */
export function onlyFields<T extends z.ZodType<unknown, Record<string, unknown>>>(fields: readonly string[], shape: T) {
  return z
    .looseObject({})
    .superRefine((body, ctx) => {
      const unknown = Object.keys(body).find((k) => !fields.includes(k));
      if (unknown !== undefined)
        addProblem(ctx, `Unknown parameter '${unknown}'.`, [], { code: 'unknown_parameter', param: unknown });
    })
    .pipe(shape);
}

/** A user id as the admin API takes it. */
export const USER_ID_PATTERN = /^[A-Za-z0-9_.@-]{1,128}$/;
export const userIdSchema = z.string().regex(USER_ID_PATTERN, 'must be 1-128 letters, digits or _ . @ -');

export const METADATA_LIMITS = { pairs: 16, keyLength: 64, valueLength: 512 };

/**
 * OpenAI's metadata rule: at most 16 string pairs, keys up to 64 and values up to 512 characters. Written as one
 * refinement so the checks run in OpenAI's order (count, then each key, then each value).
 */
const metadataRecord = z.record(z.string(), z.unknown(), { error: 'an object' });

function checkMetadata(value: Record<string, unknown> | null | undefined, ctx: z.RefinementCtx): void {
  if (!value) return;
  const entries = Object.entries(value);
  const { pairs, keyLength, valueLength } = METADATA_LIMITS;
  if (entries.length > pairs) {
    const message = `Invalid 'metadata': too many properties. Expected an object with at most ${pairs} properties, but got an object with ${entries.length} properties instead.`;
    return addProblem(ctx, message, [], { code: 'object_above_max_properties' });
  }
  for (const [key, v] of entries) {
    // BSON cannot hold a NUL in a field name; the list filter refuses such keys too.
    if (key.includes('\u0000')) {
      return addProblem(ctx, "Invalid 'metadata': metadata keys must not contain NUL characters.", [], {
        code: 'invalid_value',
      });
    }
    if (key.length > keyLength) {
      const message = `Invalid 'metadata': metadata keys must be at most ${keyLength} characters, but a key has ${key.length}.`;
      return addProblem(ctx, message, [], { code: 'string_above_max_length' });
    }
    if (typeof v !== 'string') {
      const got =
        v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
      const message = `Invalid type for 'metadata.${key}': expected a string, but got ${got} instead.`;
      return addProblem(ctx, message, [], { code: 'invalid_type', param: `metadata.${key}` });
    }
    if (v.length > valueLength) {
      const message = `Invalid 'metadata.${key}': string too long. Expected a string with maximum length ${valueLength}, but got a string with length ${v.length} instead.`;
      return addProblem(ctx, message, [], { code: 'string_above_max_length', param: `metadata.${key}` });
    }
  }
}

const asMetadata = (value: Record<string, unknown> | null | undefined) =>
  (value ?? null) as Record<string, string> | null;

/** Optional metadata (absent or null: none). */
export const metadataSchema = metadataRecord.nullish().superRefine(checkMetadata).transform(asMetadata);
/** Metadata that must be given (null clears it). */
export const requiredMetadataSchema = metadataRecord.nullable().superRefine(checkMetadata).transform(asMetadata);

/** Optional fields take null as absent, as OpenAI's do. */
export const optionalBoolean = z.boolean().nullish();
export const optionalString = z.string().nullish();

/** A model name: required, at most 256 characters. */
export const modelSchema = z.string().min(1).max(256);

/** An integer given as a query-string value. */
export function queryInt(
  name: string,
  min: number,
  max: number,
  message = `Invalid '${name}': expected an integer between ${min} and ${max}.`,
) {
  return z
    .unknown()
    .superRefine((v, ctx) => {
      const n = typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : NaN;
      if (!(n >= min && n <= max)) addProblem(ctx, message, [], { code: 'invalid_value' });
    })
    .transform((v) => Number(v));
}

/** Cursor-list query parameters shared by every OpenAI list endpoint, as a shape other queries can extend. */
export function listQueryShape(defaults: { order: 'asc' | 'desc'; limit: number; max: number }) {
  return {
    limit: queryInt('limit', 1, defaults.max)
      .optional()
      .transform((v) => v ?? defaults.limit),
    order: z
      .enum(['asc', 'desc'])
      .optional()
      .transform((v) => v ?? defaults.order),
    after: z.string().min(1).max(128).optional(),
  };
}

export const pickListQuery = (q: Omit<ListQuery, 'after'> & { after?: string }): ListQuery => ({
  after: q.after,
  limit: q.limit,
  order: q.order,
});

export function listQuerySchema(defaults: { order: 'asc' | 'desc'; limit: number; max: number }) {
  return z.looseObject(listQueryShape(defaults)).transform(pickListQuery);
}
