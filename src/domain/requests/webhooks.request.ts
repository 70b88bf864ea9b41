import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES, webhookUrlProblem } from '../webhooks';
import { addProblem, onlyFields, userIdSchema } from './common';

const FIELDS = ['user_id', 'url', 'events', 'enabled', 'rotate_secret'];

const url = z.string().superRefine((v, ctx) => {
  const problem = webhookUrlProblem(v);
  if (problem) addProblem(ctx, `Invalid 'url': ${problem}.`, [], { code: 'invalid_url' });
});
const events = z
  .array(z.enum(WEBHOOK_EVENT_TYPES as [string, ...string[]]))
  .max(WEBHOOK_EVENT_TYPES.length)
  .transform((list) => [...new Set(list)]);

/** The admin API's webhook endpoint fields; anything else is refused by name. */
const endpointFields = onlyFields(
  FIELDS,
  z.looseObject({
    user_id: userIdSchema.optional(),
    url: url.optional(),
    events: events.optional(),
    enabled: z.boolean().optional(),
    rotate_secret: z.boolean().optional(),
  }),
);

export const createWebhookSchema = endpointFields.superRefine((body, ctx) => {
  for (const field of ['user_id', 'url'] as const) {
    if (body[field] === undefined)
      addProblem(ctx, `Missing required parameter: '${field}'.`, [field], { code: 'missing_required_parameter' });
  }
  for (const field of ['enabled', 'rotate_secret'] as const) {
    if (body[field] !== undefined)
      addProblem(ctx, `'${field}' is set with POST /admin/webhooks/{id}.`, [field], { code: 'unknown_parameter' });
  }
});

export const updateWebhookSchema = endpointFields.superRefine((body, ctx) => {
  if (body.user_id !== undefined)
    addProblem(ctx, "An endpoint's 'user_id' cannot change; create a new one.", ['user_id'], {
      code: 'unknown_parameter',
    });
});

export type WebhookFields = z.output<typeof endpointFields>;

export const webhookListQuerySchema = z.looseObject({ user_id: z.string().optional() });
export const deliveryListQuerySchema = z.looseObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
});
