import { unixSeconds } from './ids';
import { type JsonObject, ownValue } from './json';
import type { ResponseRecord } from './call';

/** Echoed request settings, with OpenAI's defaults for the ones the caller left out. */
const ECHO_DEFAULTS: JsonObject = {
  max_output_tokens: null,
  max_tool_calls: null,
  parallel_tool_calls: true,
  previous_response_id: null,
  prompt_cache_key: null,
  reasoning: { effort: null, summary: null },
  safety_identifier: null,
  service_tier: 'auto',
  temperature: 1,
  text: { format: { type: 'text' }, verbosity: 'medium' },
  tool_choice: 'auto',
  tools: [],
  top_logprobs: 0,
  top_p: 1,
  truncation: 'disabled',
  user: null,
  prompt: null,
  conversation: null,
};

/** Fields the upstream reports more precisely than the request (e.g. the resolved model name). */
const FROM_UPSTREAM = [
  'model',
  'service_tier',
  'reasoning',
  'text',
  'temperature',
  'top_p',
  'tool_choice',
  'tools',
  'truncation',
];

/** The OpenAI `Response` object for a stored record, in any status. */
export function toResponseObject(r: ResponseRecord): JsonObject {
  const request = r.commonData.requestRawData;
  const upstream = r.commonData.responseRawData ?? {};
  const echo: JsonObject = Object.fromEntries([
    ...Object.entries(ECHO_DEFAULTS).map(([field, def]) => [field, ownValue(request, field) ?? def]),
    ...FROM_UPSTREAM.map((field) => [field, ownValue(upstream, field)]).filter(
      ([, v]) => v !== undefined && v !== null,
    ),
  ]);
  // A foreground response never shows `queued`: it is being worked on from the caller's view.
  const status = !r.background && r.status === 'queued' ? 'in_progress' : r.status;
  return {
    id: r.responseId,
    object: 'response',
    created_at: unixSeconds(r.createdAt),
    status,
    background: r.background,
    error: r.error,
    incomplete_details: r.incompleteDetails,
    instructions: request.instructions ?? null,
    ...echo,
    model: echo.model ?? r.model,
    // What the turn continues, as resolved (the request may name a conversation by id or by {id}).
    previous_response_id: r.previousResponseId ?? null,
    conversation: r.conversationId ? { id: r.conversationId } : null,
    output: r.output,
    usage: r.usage,
    metadata: r.metadata ?? {},
    store: r.store,
    completed_at: r.status === 'completed' && r.completedAt ? unixSeconds(r.completedAt) : null,
  };
}
