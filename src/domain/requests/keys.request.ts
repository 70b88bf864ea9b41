import { z } from 'zod';
import { addProblem, onlyFields, userIdSchema } from './common';

const FIELDS = ['user_id', 'name', 'enabled', 'tier', 'rpm', 'concurrency'];
const limit = z.number().int().min(1).max(1_000_000).nullable().optional();

/** The admin API's key fields; anything else is refused by name. */
const keyFields = onlyFields(
  FIELDS,
  z.looseObject({
    user_id: userIdSchema.optional(),
    name: z.string().max(128).optional(),
    enabled: z.boolean().optional(),
    tier: z.enum(['regular', 'vip', 'premium']).optional(),
    rpm: limit,
    concurrency: limit,
  }),
);

export const updateKeySchema = keyFields;
export const createKeySchema = keyFields.superRefine((body, ctx) => {
  if (body.user_id === undefined)
    addProblem(ctx, "Missing required parameter: 'user_id'.", ['user_id'], { code: 'missing_required_parameter' });
});

export type KeyFields = z.output<typeof keyFields>;

/** `GET /admin/keys?user_id=`: a repeated or bracketed `user_id` must not widen the list to every user's keys. */
export const keyListQuerySchema = z.looseObject({ user_id: z.string().optional() });
