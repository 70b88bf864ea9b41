import { z } from 'zod';
import { listQueryShape, metadataSchema, pickListQuery, requiredMetadataSchema } from './common';
import { storable } from './storable';

/** Items as input items (the same shapes `input` takes), at most 20 at a time. */
const items = z.array(z.looseObject({}), { error: 'an array of input items' }).max(20);

export const createConversationSchema = z
  .looseObject({ metadata: metadataSchema, items: items.nullish() })
  .superRefine(storable((body) => (body.items ? [body.items] : [])));

export const updateConversationSchema = z.looseObject({ metadata: requiredMetadataSchema });

export const addItemsSchema = z.looseObject({ items: items.min(1) }).superRefine(storable((body) => [body.items]));

/** `GET /v1/conversations/{id}/items`: newest first by default, as OpenAI; `include` is accepted and ignored. */
export const conversationItemsQuerySchema = z
  .looseObject(listQueryShape({ order: 'desc', limit: 20, max: 100 }))
  .transform(pickListQuery);
