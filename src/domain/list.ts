import { AppError } from './errors';
import type { JsonObject } from './json';

export interface ListQuery {
  after: string | undefined;
  limit: number;
  order: 'asc' | 'desc';
}

/** OpenAI's cursor list: `{object:"list", data, first_id, last_id, has_more}`. */
export interface ItemList {
  object: 'list';
  data: JsonObject[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export function listOf(data: JsonObject[], hasMore: boolean): ItemList {
  return {
    object: 'list',
    data,
    first_id: (data[0]?.id as string | undefined) ?? null,
    last_id: (data[data.length - 1]?.id as string | undefined) ?? null,
    has_more: hasMore,
  };
}

/**
 * A page of items held in one record (input items, stored messages), in the asked order,
 * after the item with id `after`; an `after` that names no item is a 400 saying `what`.
 */
export function pageOf(items: JsonObject[], query: ListQuery, what: string): ItemList {
  const ordered = query.order === 'asc' ? items : [...items].reverse();
  let start = 0;
  if (query.after !== undefined) {
    const at = ordered.findIndex((item) => item.id === query.after);
    if (at < 0) throw AppError.badRequest(`No ${what} with id '${query.after}'.`, 'after');
    start = at + 1;
  }
  return listOf(ordered.slice(start, start + query.limit), start + query.limit < ordered.length);
}
