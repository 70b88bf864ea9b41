import { newId } from './ids';
import type { JsonObject } from './json';

/** Id prefixes by item type; a Map, since the type comes from the request (`constructor` must not match). */
const ITEM_ID_PREFIX: ReadonlyMap<string, string> = new Map([
  ['message', 'msg_'],
  ['function_call', 'fc_'],
  ['function_call_output', 'fco_'],
  ['reasoning', 'rs_'],
]);

/**
 * Turns the request's `input` into input item resources, each with an id, as
 * `GET /v1/responses/{id}/input_items` lists them. A string is one user message with one
 * `input_text` part; easy messages get their string content as one text part.
 */
export function toInputItems(input: string | JsonObject[] | undefined): JsonObject[] {
  if (input === undefined) return [];
  if (typeof input === 'string') {
    return [{ id: newId('msg_'), type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }];
  }
  return input.map((raw) => {
    const type = typeof raw.type === 'string' ? raw.type : 'message';
    const item: JsonObject = { ...raw, type };
    if (type === 'message' && typeof raw.content === 'string') {
      const partType = raw.role === 'assistant' ? 'output_text' : 'input_text';
      item.content = [{ type: partType, text: raw.content }];
    }
    if (typeof item.id !== 'string' || item.id === '') {
      item.id = newId(ITEM_ID_PREFIX.get(type) ?? 'item_');
    }
    return item;
  });
}
