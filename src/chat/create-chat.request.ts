import { ApiError } from '../common/api-error';
import { checkStorable, isObject, type JsonObject, optionalBoolean, validateMetadata } from '../common/validation';

export interface CreateChatRequest {
  model: string;
  messages: JsonObject[];
  metadata: Record<string, string> | null;
  store: boolean;
  background: boolean;
  stream: boolean;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

export function parseCreateChat(body: unknown): CreateChatRequest {
  if (!isObject(body)) throw ApiError.badRequest('The request body must be a JSON object.', null, 'invalid_json');
  const model = body.model;
  if (model === undefined || model === null || model === '') throw ApiError.missingParam('model');
  if (typeof model !== 'string') throw ApiError.invalidType('model', 'a string', model);
  if (model.length > 256) throw ApiError.badRequest(`Invalid 'model': at most 256 characters.`, 'model', 'string_above_max_length');

  const messages = body.messages;
  if (messages === undefined || messages === null) throw ApiError.missingParam('messages');
  if (!Array.isArray(messages)) throw ApiError.invalidType('messages', 'an array', messages);
  if (messages.length === 0) {
    throw ApiError.badRequest("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages', 'empty_array');
  }
  messages.forEach((m, i) => {
    if (!isObject(m)) throw ApiError.invalidType(`messages[${i}]`, 'an object', m);
    if (typeof m.role !== 'string' || !ROLES.has(m.role)) {
      throw ApiError.badRequest(`Invalid value for 'messages[${i}].role': expected one of ${[...ROLES].join(', ')}.`, `messages[${i}].role`, 'invalid_value');
    }
    // A string, or an array of content parts (objects); null or absent for some assistant messages.
    const content = m.content;
    if (content !== undefined && content !== null && typeof content !== 'string') {
      if (!Array.isArray(content)) throw ApiError.invalidType(`messages[${i}].content`, 'a string or an array of content parts', content);
      content.forEach((part, j) => {
        if (!isObject(part)) throw ApiError.invalidType(`messages[${i}].content[${j}]`, 'an object', part);
      });
    }
  });

  const background = optionalBoolean(body, 'background') ?? false;
  const storeGiven = optionalBoolean(body, 'store');
  if (background && storeGiven === false) {
    throw ApiError.badRequest('Background chat completions are always stored: `store` cannot be false when `background` is true.', 'store');
  }
  const metadata = validateMetadata(body.metadata);
  const stream = optionalBoolean(body, 'stream') ?? false;
  checkStorable(body);
  return {
    model,
    messages: messages as JsonObject[],
    metadata,
    // store defaults to false for chat; a background job is always stored.
    store: background || (storeGiven ?? false),
    background,
    stream,
  };
}

/** `POST /v1/chat/completions/{id}`: only `metadata` may change; it replaces the whole map. */
export function parseUpdateChat(body: unknown): Record<string, string> | null {
  if (!isObject(body)) throw ApiError.badRequest('The request body must be a JSON object.', null, 'invalid_json');
  const others = Object.keys(body).filter((k) => k !== 'metadata');
  if (others.length > 0) {
    throw ApiError.badRequest(`Only 'metadata' can be modified; unexpected parameter '${others[0]}'.`, others[0], 'unknown_parameter');
  }
  if (!('metadata' in body)) throw ApiError.missingParam('metadata');
  return validateMetadata(body.metadata);
}
