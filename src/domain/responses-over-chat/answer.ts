import { incompleteFor, isObject, objects, text, type JsonObject, type NewId, type ResponseResult } from './types';

export type { ResponseResult } from './types';

/** Maps a ChatCompletion (non-streamed) to Responses output. `newId(prefix)` mints item ids (msg_, fc_). */
export function responseFromChat(completion: JsonObject, newId: NewId): ResponseResult {
  const choice = firstChoice(completion.choices);
  const message = isObject(choice?.message) ? choice.message : {};
  const incompleteDetails = incompleteFor(choice?.finish_reason);
  const status = incompleteDetails ? 'incomplete' : 'completed';
  const output: JsonObject[] = [];

  const content: JsonObject[] = [];
  const answer = chatText(message.content);
  if (answer !== '') content.push(outputText(answer, logprobsFrom(choice?.logprobs)));
  const refusal = text(message.refusal);
  if (refusal !== '') content.push({ type: 'refusal', refusal });
  if (content.length > 0) {
    output.push({ type: 'message', id: newId('msg_'), status, role: 'assistant', content });
  }
  for (const call of objects(message.tool_calls)) {
    const fn = isObject(call.function) ? call.function : {};
    output.push({
      type: 'function_call',
      id: newId('fc_'),
      call_id: text(call.id) || newId('call_'),
      name: text(fn.name),
      arguments: text(fn.arguments),
      // A cut-off answer may have cut the arguments too, so the calls are as unfinished as the message.
      status,
    });
  }
  return { status, output, incompleteDetails, usage: usageFromChat(completion.usage), model: modelOf(completion) };
}

/** Chat usage in the Responses shape; the total is summed because Responses defines it as input plus output. */
export function usageFromChat(usage: unknown): JsonObject | null {
  if (!isObject(usage)) return null;
  const prompt = isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const completion = isObject(usage.completion_tokens_details) ? usage.completion_tokens_details : {};
  const input = count(usage.prompt_tokens);
  const output = count(usage.completion_tokens);
  return {
    input_tokens: input,
    input_tokens_details: {
      cached_tokens: count(prompt.cached_tokens),
      cache_write_tokens: count(prompt.cache_write_tokens),
    },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: count(completion.reasoning_tokens) },
    total_tokens: input + output,
  };
}

/** Only choice 0 becomes output: a Response holds one answer, so extra choices (a forwarded `n`) are dropped. */
export function firstChoice(choices: unknown): JsonObject | undefined {
  return objects(choices).find((choice) => (choice.index ?? 0) === 0);
}

/** Some chat servers answer with content parts instead of a string; their text is what the model said. */
export function chatText(content: unknown): string {
  if (Array.isArray(content))
    return objects(content)
      .map((part) => text(part.text))
      .join('');
  return text(content);
}

export function outputText(value: string, logprobs: JsonObject[]): JsonObject {
  return { type: 'output_text', text: value, annotations: [], logprobs };
}

/** Chat token logprobs in the Responses shape; there only when the request asked for them (top_logprobs). */
export function logprobsFrom(choiceLogprobs: unknown): JsonObject[] {
  if (!isObject(choiceLogprobs)) return [];
  return objects(choiceLogprobs.content).map((entry) => ({
    ...tokenLogprob(entry),
    top_logprobs: objects(entry.top_logprobs).map(tokenLogprob),
  }));
}

function tokenLogprob(entry: JsonObject): JsonObject {
  return {
    token: text(entry.token),
    logprob: typeof entry.logprob === 'number' ? entry.logprob : 0,
    bytes: Array.isArray(entry.bytes) ? entry.bytes : [],
  };
}

export function modelOf(payload: JsonObject): string | null {
  return typeof payload.model === 'string' && payload.model !== '' ? payload.model : null;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
