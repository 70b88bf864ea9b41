import { z } from 'zod';
import { addProblem, metadataSchema, modelSchema, optionalBoolean, optionalString, queryInt } from './common';
import { storable } from './storable';

const inputItem = z.looseObject({});

/**
 * `POST /v1/responses`: the fields this service acts on. The object is loose, so every other field reaches the
 * upstream untouched; the parsed value carries them too.
 */
export const createResponseSchema = z
  .looseObject({
    model: modelSchema,
    input: z.union([z.string(), z.array(inputItem)], { error: 'a string or an array of input items' }).nullish(),
    instructions: optionalString,
    metadata: metadataSchema,
    background: optionalBoolean,
    store: optionalBoolean,
    stream: optionalBoolean,
    previous_response_id: z.string().min(1).max(128).nullish(),
    // A conversation id, or `{id}`.
    conversation: z
      .union([z.string().min(1).max(128), z.looseObject({ id: z.string().min(1).max(128) })], {
        error: "a conversation id or an object with 'id'",
      })
      .nullish(),
  })
  .superRefine((body, ctx) => {
    const noInput = body.input === undefined || body.input === null;
    if (
      noInput &&
      body.prompt === undefined &&
      body.previous_response_id === undefined &&
      body.conversation === undefined
    ) {
      return addProblem(ctx, "Missing required parameter: 'input'.", ['input'], { code: 'missing_required_parameter' });
    }
    if (body.previous_response_id && body.conversation) {
      const message =
        "'previous_response_id' and 'conversation' cannot be used together: a turn continues one or the other.";
      return addProblem(ctx, message, ['conversation'], { code: 'invalid_value' });
    }
  })
  // The record keeps the body and, as input items, a second copy of the input.
  .superRefine(storable((body) => (body.input === undefined || body.input === null ? [] : [body.input])));

export type CreateResponseBody = z.output<typeof createResponseSchema>;

/** What a create asks for, with OpenAI's defaults applied. */
export interface CreateResponseRequest {
  model: string;
  input: string | Record<string, unknown>[] | undefined;
  instructions: string | undefined;
  metadata: Record<string, string> | null;
  background: boolean;
  store: boolean;
  stream: boolean;
  previousResponseId: string | null;
  conversationId: string | null;
}

export function createResponseRequest(body: CreateResponseBody): CreateResponseRequest {
  return {
    model: body.model,
    input: body.input ?? undefined,
    instructions: body.instructions ?? undefined,
    metadata: body.metadata,
    background: body.background ?? false,
    store: body.store ?? true,
    stream: body.stream ?? false,
    previousResponseId: body.previous_response_id ?? null,
    conversationId: typeof body.conversation === 'string' ? body.conversation : (body.conversation?.id ?? null),
  };
}

/** `starting_after` of a stream replay: a sequence number (events after it are sent); absent means all. */
export const startingAfterSchema = z
  .preprocess(
    (v) => (v === '' ? undefined : v),
    queryInt(
      'starting_after',
      0,
      999_999_999,
      "Invalid 'starting_after': expected a non-negative integer sequence number.",
    ).optional(),
  )
  .transform((v) => v ?? -1);

/**
 * `GET /v1/responses/{id}` query: `stream` must be the literal `true` (anything else but `false` is a mistake worth
 * saying); `starting_after` matters, and is checked, only when streaming.
 */
export const retrieveQuerySchema = z
  .looseObject({ stream: z.enum(['true', 'false']).optional(), starting_after: z.unknown().optional() })
  .transform((q, ctx) => {
    if (q.stream !== 'true') return { stream: false, afterSeq: -1 };
    const after = startingAfterSchema.safeParse(q.starting_after, { reportInput: true });
    if (after.success) return { stream: true, afterSeq: after.data };
    for (const issue of after.error.issues) ctx.addIssue({ ...issue, path: ['starting_after', ...issue.path] });
    return z.NEVER;
  });
