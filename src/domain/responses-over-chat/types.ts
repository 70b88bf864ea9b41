export type JsonObject = Record<string, unknown>;

/** Mints an opaque id from a prefix such as 'msg_' or 'fc_'. */
export type NewId = (prefix: string) => string;

/** What a chat answer (streamed or not) becomes on the Responses side, before it is wrapped in a Response. */
export interface ResponseResult {
  status: 'completed' | 'incomplete';
  output: JsonObject[];
  incompleteDetails: JsonObject | null;
  usage: JsonObject | null;
  model: string | null;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objects(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

export function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The incomplete_details a chat finish_reason implies; null means the answer ran to its natural end. */
export function incompleteFor(finishReason: unknown): JsonObject | null {
  if (finishReason === 'length') return { reason: 'max_output_tokens' };
  if (finishReason === 'content_filter') return { reason: 'content_filter' };
  return null;
}
