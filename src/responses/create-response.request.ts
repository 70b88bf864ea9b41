import { ApiError } from '../common/api-error';
import { checkStorable, isObject, type JsonObject, optionalBoolean, optionalString, validateMetadata } from '../common/validation';

/** The fields of `POST /v1/responses` that this service acts on; all others pass through. */
export interface CreateResponseRequest {
  model: string;
  input: string | JsonObject[] | undefined;
  instructions: string | undefined;
  metadata: Record<string, string> | null;
  background: boolean;
  store: boolean;
  stream: boolean;
}

export function parseCreateResponse(body: unknown): CreateResponseRequest {
  if (!isObject(body)) {
    throw ApiError.badRequest('The request body must be a JSON object.', null, 'invalid_json');
  }
  const model = body.model;
  if (model === undefined || model === null || model === '') throw ApiError.missingParam('model');
  if (typeof model !== 'string') throw ApiError.invalidType('model', 'a string', model);
  if (model.length > 256) throw ApiError.badRequest(`Invalid 'model': at most 256 characters.`, 'model', 'string_above_max_length');

  const input = body.input;
  if (input !== undefined && input !== null && typeof input !== 'string') {
    if (!Array.isArray(input)) throw ApiError.invalidType('input', 'a string or an array of input items', input);
    input.forEach((item, i) => {
      if (!isObject(item)) throw ApiError.invalidType(`input[${i}]`, 'an object', item);
    });
  }
  if ((input === undefined || input === null) && body.prompt === undefined && body.previous_response_id === undefined && body.conversation === undefined) {
    throw ApiError.missingParam('input');
  }

  const background = optionalBoolean(body, 'background') ?? false;
  const store = optionalBoolean(body, 'store') ?? true;
  const stream = optionalBoolean(body, 'stream') ?? false;
  if (background && !store) {
    throw ApiError.badRequest('Background responses must be stored: `store` cannot be false when `background` is true.', 'store');
  }

  const instructions = optionalString(body, 'instructions');
  const metadata = validateMetadata(body.metadata);
  // The record keeps the body and, as input items, a second copy of the input.
  checkStorable(body, input === undefined || input === null ? [] : [input]);

  return {
    model,
    input: (input ?? undefined) as CreateResponseRequest['input'],
    instructions,
    metadata,
    background,
    store,
    stream,
  };
}
