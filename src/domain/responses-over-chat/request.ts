import { isObject, objects, text, type JsonObject } from './types';

export interface UnsupportedFeature {
  param: string;
  message: string;
}

// Fields that are ours (state, transport, storage) or that are rewritten below; everything else reaches the upstream.
// metadata is copied: Chat Completions takes it too (and our mock upstream reads its knobs there).
const NOT_COPIED = new Set([
  'background',
  'store',
  'stream',
  'stream_options',
  'include',
  'truncation',
  'previous_response_id',
  'conversation',
  'instructions',
  'input',
  'prompt',
  'tools',
  'tool_choice',
  'text',
  'max_output_tokens',
  'reasoning',
  'top_logprobs',
  // Responses-only knobs: max_tool_calls caps hosted tools (refused anyway); context_management is server-side
  // compaction, which a chat upstream cannot do, and the turn still works without it.
  'max_tool_calls',
  'context_management',
]);

// Same name on both sides; a null there means "default", and some chat servers reject an explicit null.
const SAME_NAME = new Set([
  'model',
  'temperature',
  'top_p',
  'parallel_tool_calls',
  'user',
  'safety_identifier',
  'prompt_cache_key',
  'service_tier',
  'prompt_cache_retention',
  'prompt_cache_options',
  'moderation',
]);

const TEXT_PARTS = new Set(['input_text', 'output_text', 'text']);

/**
 * A request feature the chat protocol cannot express, or null.
 * Called by the api before enqueueing (400 naming `param`).
 */
export function unsupportedOverChat(request: JsonObject): UnsupportedFeature | null {
  if (request.prompt != null) {
    return { param: 'prompt', message: 'Prompt templates (`prompt`) are not supported for this model.' };
  }
  for (const tool of objects(request.tools)) {
    if (tool.type !== 'function') {
      const message = `Tool type '${String(tool.type)}' is not supported for this model; only 'function' tools are.`;
      return { param: 'tools', message };
    }
  }
  const choice = request.tool_choice;
  if (isObject(choice) && !(choice.type === 'function' && typeof choice.name === 'string')) {
    const message =
      `tool_choice of type '${String(choice.type)}' is not supported for this model; ` +
      `use a string or {type: 'function', name}.`;
    return { param: 'tool_choice', message };
  }
  if (Array.isArray(request.input)) {
    for (const [index, item] of request.input.entries()) {
      const problem = isObject(item) ? itemProblem(item) : null;
      if (problem) return { param: 'input', message: `input[${index}]: ${problem}` };
    }
  }
  return null;
}

function itemProblem(item: JsonObject): string | null {
  const type = item.type ?? 'message';
  switch (type) {
    case 'message':
      return Array.isArray(item.content) ? contentProblem(item.content) : null;
    case 'function_call':
    case 'reasoning':
      return null;
    case 'function_call_output':
      if (!Array.isArray(item.output)) return null;
      return objects(item.output).some((part) => part.type !== 'input_text')
        ? 'function_call_output content other than input_text is not supported for this model.'
        : null;
    case 'item_reference':
      return 'item_reference inputs are not supported for this model; send the item itself.';
    default:
      return `input items of type '${String(type)}' are not supported for this model.`;
  }
}

function contentProblem(content: unknown[]): string | null {
  for (const part of objects(content)) {
    if (TEXT_PARTS.has(String(part.type)) || part.type === 'refusal') continue;
    if (part.type === 'input_image') {
      if (typeof part.image_url !== 'string') return 'input_image needs an image_url; file_id images are unsupported.';
      continue;
    }
    if (part.type === 'input_file') {
      if (part.file_url != null) return 'input_file with file_url is not supported; use file_id or file_data.';
      continue;
    }
    return `content parts of type '${String(part.type)}' are not supported for this model.`;
  }
  return null;
}

/**
 * Builds the Chat Completions body for a Responses request. `context` are Responses input items that come before this
 * turn's input (from previous_response_id chains or a conversation), already in item form. Output is the body to POST
 * to /chat/completions WITHOUT `stream` (the caller sets stream/stream_options).
 */
export function chatRequestFor(request: JsonObject, context: JsonObject[]): JsonObject {
  // fromEntries defines own properties: a request key such as `__proto__` cannot reach the prototype.
  const body: JsonObject = Object.fromEntries(
    Object.entries(request).filter(([key, value]) => !NOT_COPIED.has(key) && !(value === null && SAME_NAME.has(key))),
  );
  body.messages = messagesFor(request, context);

  const tools = objects(request.tools)
    .filter((tool) => tool.type === 'function')
    .map(chatTool);
  if (tools.length > 0) body.tools = tools;
  const choice = toolChoice(request.tool_choice);
  if (choice !== undefined) body.tool_choice = choice;

  const textConfig = isObject(request.text) ? request.text : {};
  const format = responseFormat(textConfig.format);
  if (format) body.response_format = format;
  if (typeof textConfig.verbosity === 'string') body.verbosity = textConfig.verbosity;

  if (typeof request.max_output_tokens === 'number') body.max_completion_tokens = request.max_output_tokens;
  const reasoning = isObject(request.reasoning) ? request.reasoning : {};
  if (typeof reasoning.effort === 'string') body.reasoning_effort = reasoning.effort;
  if (typeof request.top_logprobs === 'number') {
    body.logprobs = true;
    body.top_logprobs = request.top_logprobs;
  }
  return body;
}

function messagesFor(request: JsonObject, context: JsonObject[]): JsonObject[] {
  const messages: JsonObject[] = [];
  if (typeof request.instructions === 'string' && request.instructions !== '') {
    messages.push({ role: 'system', content: request.instructions });
  }
  const input = typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : objects(request.input);
  for (const item of [...context, ...input]) {
    switch (item.type ?? 'message') {
      case 'message':
        messages.push(chatMessage(item));
        break;
      case 'function_call':
        addToolCall(messages, item);
        break;
      case 'function_call_output':
        messages.push({ role: 'tool', tool_call_id: item.call_id, content: toolOutput(item.output) });
        break;
      default:
        // reasoning and hosted-tool items (possible in stored context) have no chat form; the model goes without.
        break;
    }
  }
  return messages;
}

function chatMessage(item: JsonObject): JsonObject {
  const role = item.role;
  const content = item.content;
  if (role === 'assistant') {
    if (!Array.isArray(content)) return { role, content };
    const parts = objects(content);
    const message: JsonObject = {
      role,
      content: parts
        .filter((part) => TEXT_PARTS.has(String(part.type)))
        .map((part) => text(part.text))
        .join(''),
    };
    const refusal = parts
      .filter((part) => part.type === 'refusal')
      .map((part) => text(part.refusal))
      .join('');
    if (refusal !== '') message.refusal = refusal;
    return message;
  }
  return { role, content: Array.isArray(content) ? objects(content).map(chatPart) : content };
}

function chatPart(part: JsonObject): JsonObject {
  const cachePoint = part.prompt_cache_breakpoint;
  const breakpoint = cachePoint != null ? { prompt_cache_breakpoint: cachePoint } : {};
  if (TEXT_PARTS.has(String(part.type))) return { type: 'text', text: text(part.text), ...breakpoint };
  if (part.type === 'input_image') {
    const imageUrl = defined({ url: part.image_url, detail: part.detail });
    return { type: 'image_url', image_url: imageUrl, ...breakpoint };
  }
  if (part.type === 'input_file') {
    const file = defined({ file_id: part.file_id, file_data: part.file_data, filename: part.filename });
    return { type: 'file', file, ...breakpoint };
  }
  // unsupportedOverChat refuses the rest before we get here; pass it on rather than lose it silently.
  return part;
}

function addToolCall(messages: JsonObject[], item: JsonObject): void {
  const args = typeof item.arguments === 'string' ? item.arguments : JSON.stringify(item.arguments ?? {});
  const call = { id: item.call_id, type: 'function', function: { name: item.name, arguments: args } };
  const last = messages.at(-1);
  // Chat wants a turn's calls on one assistant message, which may also carry the text said before them.
  if (last?.role === 'assistant') {
    last.tool_calls = [...objects(last.tool_calls), call];
    return;
  }
  messages.push({ role: 'assistant', content: null, tool_calls: [call] });
}

function toolOutput(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output))
    return objects(output)
      .map((part) => text(part.text))
      .join('');
  return output == null ? '' : JSON.stringify(output);
}

function chatTool(tool: JsonObject): JsonObject {
  const { name, description, parameters, strict } = tool;
  return { type: 'function', function: defined({ name, description, parameters, strict }) };
}

function toolChoice(choice: unknown): unknown {
  if (typeof choice === 'string') return choice;
  if (isObject(choice) && choice.type === 'function') return { type: 'function', function: { name: choice.name } };
  return undefined;
}

function responseFormat(format: unknown): JsonObject | null {
  if (!isObject(format)) return null;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') {
    const schema = defined({
      name: format.name,
      schema: format.schema,
      strict: format.strict,
      description: format.description,
    });
    return { type: 'json_schema', json_schema: schema };
  }
  return null;
}

/** Drops absent and null members: chat servers differ on whether an explicit null means "default". */
function defined(object: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value != null));
}
