import { z } from 'zod';
import {
  addProblem,
  listQueryShape,
  metadataSchema,
  modelSchema,
  optionalBoolean,
  pickListQuery,
  requiredMetadataSchema,
} from './common';
import { storable } from './storable';

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

const message = z.looseObject({
  role: z.enum(ROLES),
  // A string, or an array of content parts (objects); null or absent for some assistant messages.
  content: z
    .union([z.string(), z.array(z.looseObject({}))], { error: 'a string or an array of content parts' })
    .nullish(),
});

/** `POST /v1/chat/completions`: the fields we act on; the rest reaches the upstream untouched. */
export const createChatSchema = z
  .looseObject({
    model: modelSchema,
    messages: z.array(message).min(1),
    metadata: metadataSchema,
    background: optionalBoolean,
    store: optionalBoolean,
    stream: optionalBoolean,
  })
  .superRefine(storable());

export type CreateChatBody = z.output<typeof createChatSchema>;

export interface CreateChatRequest {
  model: string;
  metadata: Record<string, string> | null;
  store: boolean;
  background: boolean;
  stream: boolean;
}

export function createChatRequest(body: CreateChatBody): CreateChatRequest {
  const background = body.background ?? false;
  return {
    model: body.model,
    metadata: body.metadata,
    // store defaults to false for chat, but a background job is kept unless it says store: false (then only for
    // EPHEMERAL_RETENTION_S after it ends, as a background response).
    store: body.store ?? background,
    background,
    stream: body.stream ?? false,
  };
}

/** `POST /v1/chat/completions/{id}`: only `metadata` may change; it replaces the whole map. */
export const updateChatSchema = z
  .looseObject({})
  .superRefine((body, ctx) => {
    const other = Object.keys(body).find((k) => k !== 'metadata');
    if (other !== undefined) {
      const text = `Only 'metadata' can be modified; unexpected parameter '${other}'.`;
      addProblem(ctx, text, [], { code: 'unknown_parameter', param: other });
    }
  })
  .pipe(z.looseObject({ metadata: requiredMetadataSchema }));

/** `metadata[key]=value` pairs (the SDK's bracket encoding) to filter a list by; all must match. */
const metadataFilter = z
  .record(z.string(), z.unknown(), { error: 'metadata[key]=value pairs' })
  .superRefine((v, ctx) => {
    for (const [k, val] of Object.entries(v)) {
      // Keys become document paths in the query, so operators and nested paths are refused, and so is whitespace at
      // either end, which FerretDB refuses in a path (a 500 otherwise).
      const badKey =
        k.length < 1 || k.length > 64 || /[.$]/.test(k) || k.includes('\u0000') || /^[\s\u0085]|[\s\u0085]$/.test(k);
      if (badKey || typeof val !== 'string' || val.length > 512) {
        return addProblem(ctx, `Invalid 'metadata[${k.slice(0, 64)}]' filter.`, [], { code: 'invalid_value' });
      }
    }
  });

/** `GET /v1/chat/completions`: the cursor list, then the filters, checked in that order. */
export const chatListQuerySchema = z
  .looseObject({
    ...listQueryShape({ order: 'asc', limit: 20, max: 100 }),
    model: z.string().min(1).max(256).optional(),
    metadata: metadataFilter.optional().transform((v) => v as Record<string, string> | undefined),
  })
  .transform((q) => ({ list: pickListQuery(q), filters: { model: q.model, metadata: q.metadata } }));
