import OpenAI from 'openai';
import { responseFromChat } from './answer';
import { ChatStreamTranslator, type ResponseEvent } from './stream';
import type { JsonObject, ResponseResult } from './types';

const ids =
  (n = 0) =>
  (prefix: string): string =>
    `${prefix}${++n}`;

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'up-model' };
const chunk = (delta: JsonObject, finishReason: string | null = null): JsonObject => ({
  ...base,
  choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
});
const roleChunk = (): JsonObject => chunk({ role: 'assistant', content: '' });
const textChunk = (content: string): JsonObject => chunk({ content });
const callStart = (index: number, id: string, name: string, args = ''): JsonObject =>
  chunk({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: args } }] });
const callArgs = (index: number, args: string): JsonObject =>
  chunk({ tool_calls: [{ index, function: { arguments: args } }] });
const finishChunk = (reason: string): JsonObject => chunk({}, reason);
const usage = { prompt_tokens: 9, completion_tokens: 6, completion_tokens_details: { reasoning_tokens: 1 } };
const usageChunk = (): JsonObject => ({ ...base, choices: [], usage });
/** Event types in short form: 'item+' is response.output_item.added, 'text' a text delta, and so on. */
const SHORT: Record<string, string> = {
  'item+': 'output_item.added',
  'item.': 'output_item.done',
  'part+': 'content_part.added',
  'part.': 'content_part.done',
  text: 'output_text.delta',
  'text.': 'output_text.done',
  args: 'function_call_arguments.delta',
  'args.': 'function_call_arguments.done',
  refusal: 'refusal.delta',
};
const SHORTS = new Map(Object.entries(SHORT));
const types = (short: string): string[] => short.split(' ').map((s) => `response.${SHORTS.get(s)}`);
const fc = (id: string, callId: string, name: string, args: string): JsonObject => ({
  type: 'function_call',
  id,
  call_id: callId,
  name,
  arguments: args,
  status: 'completed',
});

function translate(chunks: JsonObject[]): { events: ResponseEvent[]; result: ResponseResult } {
  const translator = new ChatStreamTranslator(ids());
  const events = chunks.flatMap((c) => translator.push(c));
  const end = translator.finish();
  return { events: [...events, ...end.events], result: end.result };
}

function responseObject(status: string, output: JsonObject[], extra: JsonObject = {}): JsonObject {
  return {
    id: 'resp_1',
    object: 'response',
    created_at: 1767225600,
    status,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: 'm',
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: null,
    metadata: {},
    ...extra,
  };
}

/** The whole SSE body a service would send: our lifecycle events around the translated ones, numbered from 0. */
function sseFor(events: ResponseEvent[], result: ResponseResult): string {
  const terminal = result.status === 'completed' ? 'response.completed' : 'response.incomplete';
  const extra = { usage: result.usage, incomplete_details: result.incompleteDetails };
  const all: ResponseEvent[] = [
    { type: 'response.created', response: responseObject('in_progress', []) },
    { type: 'response.in_progress', response: responseObject('in_progress', []) },
    ...events,
    { type: terminal, response: responseObject(result.status, result.output, extra) },
  ];
  return all.map((e, n) => `event: ${e.type}\ndata: ${JSON.stringify({ ...e, sequence_number: n })}\n\n`).join('');
}

// The helper decorates what it returns (parsed, parsed_arguments); those are the SDK's, not the server's.
function withoutSdkFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSdkFields);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).filter(([key]) => key !== 'parsed' && key !== 'parsed_arguments');
  return Object.fromEntries(entries.map(([key, inner]) => [key, withoutSdkFields(inner)]));
}

type Final = OpenAI.Responses.Response;

async function throughSdk(sse: string): Promise<{ seen: string[]; final: Final }> {
  const fetch = async (): Promise<Response> => new Response(sse, { headers: { 'content-type': 'text/event-stream' } });
  const client = new OpenAI({ apiKey: 'x', baseURL: 'http://test/v1', maxRetries: 0, fetch });
  const stream = client.responses.stream({ model: 'm', input: 'hi' });
  const seen: string[] = [];
  for await (const e of stream) seen.push(e.type);
  const final = await stream.finalResponse();
  return { seen, final: { ...final, output: withoutSdkFields(final.output) as Final['output'] } };
}

type Part = { done: boolean; text: string };
interface Tracked {
  id: string;
  done: boolean;
  args: string;
  parts: Part[];
}

/** Stricter than the SDK: indices append in order, deltas only reach open items and parts, done texts match. */
function checkSequence(events: ResponseEvent[]): void {
  const items: Tracked[] = [];
  const itemOf = (e: ResponseEvent): Tracked => {
    const item = items[e.output_index as number];
    if (!item || item.done) throw new Error(`${e.type} for a closed or missing item ${String(e.output_index)}`);
    if (e.item_id !== undefined && e.item_id !== item.id) throw new Error(`${e.type}: item_id mismatch`);
    return item;
  };
  const partOf = (e: ResponseEvent): Part => {
    const item = itemOf(e);
    const part = item.parts[e.content_index as number];
    if (!part || part.done || e.content_index !== item.parts.length - 1) throw new Error(`${e.type}: closed part`);
    return part;
  };
  // A delta must add something: an empty one would be noise on the wire.
  const grow = (sofar: string, delta: unknown): string => sofar + (delta === '' ? '<empty delta>' : String(delta));
  for (const e of events) {
    expect([Object.keys(e)[0], 'sequence_number' in e]).toEqual(['type', false]);
    const item = e.item as JsonObject | undefined;
    const sent = e.part as JsonObject | undefined;
    switch (e.type) {
      case 'response.output_item.added':
        expect([e.output_index, items.every((i) => i.done), item?.status]).toEqual([items.length, true, 'in_progress']);
        expect(item?.id).toEqual(expect.stringMatching(item?.type === 'message' ? /^msg_/ : /^fc_/));
        items.push({ id: item?.id as string, done: false, args: '', parts: [] });
        break;
      case 'response.content_part.added':
        expect([itemOf(e).parts.every((p) => p.done), e.content_index]).toEqual([true, itemOf(e).parts.length]);
        itemOf(e).parts.push({ done: false, text: '' });
        break;
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        partOf(e).text = grow(partOf(e).text, e.delta);
        break;
      case 'response.output_text.done':
      case 'response.refusal.done':
        expect(e.text ?? e.refusal).toBe(partOf(e).text);
        break;
      case 'response.content_part.done':
        expect(sent?.text ?? sent?.refusal).toBe(partOf(e).text);
        partOf(e).done = true;
        break;
      case 'response.function_call_arguments.delta':
        itemOf(e).args = grow(itemOf(e).args, e.delta);
        break;
      case 'response.function_call_arguments.done':
        expect(e.arguments).toBe(itemOf(e).args);
        break;
      case 'response.output_item.done':
        expect([itemOf(e).parts.every((p) => p.done), item?.id]).toEqual([true, itemOf(e).id]);
        itemOf(e).done = true;
        break;
      default:
        throw new Error(`unexpected event ${e.type}`);
    }
  }
  expect(items.every((i) => i.done)).toBe(true);
}

async function roundTrip(chunks: JsonObject[]) {
  const { events, result } = translate(chunks);
  checkSequence(events);
  const { seen, final } = await throughSdk(sseFor(events, result));
  expect(seen).toEqual(['response.created', 'response.in_progress', ...events.map((e) => e.type), expect.any(String)]);
  expect(final.output).toEqual(result.output);
  return { events, result, final };
}

const textThenTwoCalls = (): JsonObject[] => [
  roleChunk(),
  textChunk('Let me '),
  textChunk('check.'),
  callStart(0, 'call_a', 'weather', ''),
  callArgs(0, '{"city":'),
  callArgs(0, '"Paris"}'),
  callStart(1, 'call_b', 'weather', '{"ci'),
  callArgs(1, 'ty":"Rome"}'),
  finishChunk('tool_calls'),
];

describe('ChatStreamTranslator through the SDK stream() helper', () => {
  it('streams plain text', async () => {
    const chunks = [roleChunk(), textChunk('Hel'), textChunk(''), textChunk('lo'), finishChunk('stop')];
    const { events, result, final } = await roundTrip(chunks);
    expect(events.map((e) => e.type)).toEqual(types('item+ part+ text text text. part. item.'));
    const where = { item_id: 'msg_1', output_index: 0, content_index: 0 };
    const part = { type: 'output_text', text: 'Hello', annotations: [], logprobs: [] };
    const opened = { type: 'message', id: 'msg_1', status: 'in_progress', role: 'assistant', content: [] };
    expect(events.slice(0, 3)).toEqual([
      { type: 'response.output_item.added', output_index: 0, item: opened },
      { type: 'response.content_part.added', ...where, part: { ...part, text: '' } },
      { type: 'response.output_text.delta', ...where, delta: 'Hel', logprobs: [] },
    ]);
    expect(events[4]).toEqual({ type: 'response.output_text.done', ...where, text: 'Hello', logprobs: [] });
    expect(events[5]).toEqual({ type: 'response.content_part.done', ...where, part });
    const message = { type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [part] };
    expect(events[6]).toEqual({ type: 'response.output_item.done', output_index: 0, item: message });
    const want = { status: 'completed', output: [message], incompleteDetails: null, usage: null, model: 'up-model' };
    expect(result).toEqual(want);
    expect([final.output_text, final.status]).toEqual(['Hello', 'completed']);
  });

  it('streams text then two parallel tool calls', async () => {
    const { events, final } = await roundTrip(textThenTwoCalls());
    expect(events.map((e) => e.type)).toEqual(
      types('item+ part+ text text text. part. item. item+ args args args. item. item+ args args args. item.'),
    );
    const item = { ...fc('fc_2', 'call_a', 'weather', ''), status: 'in_progress' };
    expect(events[7]).toEqual({ type: 'response.output_item.added', output_index: 1, item });
    expect(events[10]).toEqual({
      type: 'response.function_call_arguments.done',
      item_id: 'fc_2',
      output_index: 1,
      name: 'weather',
      arguments: '{"city":"Paris"}',
    });
    expect(final.output_text).toBe('Let me check.');
    const paris = fc('fc_2', 'call_a', 'weather', '{"city":"Paris"}');
    expect(final.output.slice(1)).toEqual([paris, fc('fc_3', 'call_b', 'weather', '{"city":"Rome"}')]);
  });

  it('streams a tool call only', async () => {
    const first = { index: 0, id: 'call_x', type: 'function', function: { name: 'f', arguments: '' } };
    const opening = chunk({ role: 'assistant', content: null, tool_calls: [first] });
    const { events, final } = await roundTrip([opening, callArgs(0, '{}'), finishChunk('tool_calls')]);
    expect(events.map((e) => e.type)).toEqual(types('item+ args args. item.'));
    expect(final.output_text).toBe('');
    expect(final.output).toEqual([fc('fc_1', 'call_x', 'f', '{}')]);
  });

  it.each([
    ['length', 'max_output_tokens'],
    ['content_filter', 'content_filter'],
  ])('ends incomplete on %s, closing the items as incomplete', async (finishReason, reason) => {
    const { events, result, final } = await roundTrip([roleChunk(), textChunk('A long'), finishChunk(finishReason)]);
    expect([result.status, result.incompleteDetails]).toEqual(['incomplete', { reason }]);
    expect(events.at(-1)).toMatchObject({ type: 'response.output_item.done', item: { status: 'incomplete' } });
    expect([final.status, final.incomplete_details, final.output_text]).toEqual(['incomplete', { reason }, 'A long']);
  });

  it('records usage from the usage chunk', async () => {
    const { result, final } = await roundTrip([roleChunk(), textChunk('ok'), finishChunk('stop'), usageChunk()]);
    const usage = {
      input_tokens: 9,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: 6,
      output_tokens_details: { reasoning_tokens: 1 },
      total_tokens: 15,
    };
    expect([result.usage, final.usage]).toEqual([usage, usage]);
  });

  it('gives the same answer however the chunks are split', async () => {
    const whole = translate(textThenTwoCalls()).result;
    // One character per chunk, with empty argument chunks between: the smallest pieces a server could send.
    const split = [roleChunk(), ...[...'Let me check.'].map(textChunk), callStart(0, 'call_a', 'weather')];
    split.push(...[...'{"city":"Paris"}'].map((ch) => callArgs(0, ch)), callStart(1, 'call_b', 'weather'));
    split.push(...[...'{"city":"Rome"}'].flatMap((ch) => [callArgs(1, ch), callArgs(1, '')]));
    split.push(finishChunk('tool_calls'));
    const { events, result, final } = await roundTrip(split);
    expect(events.filter((e) => e.type === 'response.function_call_arguments.delta')).toHaveLength(31);
    expect(result).toEqual(whole);
    expect(final.output_text).toBe('Let me check.');
  });

  const calls = (...list: [number, string, string, string][]): JsonObject =>
    chunk({ tool_calls: list.map(([index, id, name, args]) => ({ index, id, function: { name, arguments: args } })) });
  it.each<[string, JsonObject[]]>([
    [
      'several calls in one chunk, the id repeated',
      [calls([0, 'call_a', 'f', '{"a":1}'], [1, 'call_b', 'g', '{']), calls([1, 'call_b', 'g', '}'])],
    ],
    ['index 0 reused with a new id', [calls([0, 'call_a', 'f', '{"a":1}']), calls([0, 'call_b', 'g', '{}'])]],
  ])('tells tool calls apart: %s', async (_name, chunks) => {
    const { final } = await roundTrip([...chunks, finishChunk('tool_calls')]);
    expect(final.output).toEqual([fc('fc_1', 'call_a', 'f', '{"a":1}'), fc('fc_2', 'call_b', 'g', '{}')]);
  });

  it('streams a refusal as a refusal part, after the text part it closes', async () => {
    const chunks = [textChunk('Hm. '), chunk({ refusal: 'I can' }), chunk({ refusal: 'not.' }), finishChunk('stop')];
    const { events, final } = await roundTrip(chunks);
    expect(events.map((e) => e.type).slice(3, 8)).toEqual(types('text. part. part+ refusal refusal'));
    const text = { type: 'output_text', text: 'Hm. ', annotations: [], logprobs: [] };
    const content = [text, { type: 'refusal', refusal: 'I cannot.' }];
    expect(final.output).toEqual([{ type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content }]);
  });

  it('emits nothing for a stream with no output, and uses only choice 0', async () => {
    const other = { ...base, choices: [{ index: 1, delta: { content: 'other' }, finish_reason: null }] };
    const { events, final } = await roundTrip([roleChunk(), other, finishChunk('stop')]);
    expect([events, final.output]).toEqual([[], []]);
  });

  it('matches the non-streamed mapping of the same answer', () => {
    const call = (id: string, args: string): JsonObject => ({ id, function: { name: 'weather', arguments: args } });
    const tool_calls = [call('call_a', '{"city":"Paris"}'), call('call_b', '{"city":"Rome"}')];
    const message = { role: 'assistant', content: 'Let me check.', tool_calls };
    const completion = { model: 'up-model', choices: [{ index: 0, message, finish_reason: 'tool_calls' }] };
    expect(responseFromChat(completion, ids())).toEqual(translate(textThenTwoCalls()).result);
  });
});

describe('ChatStreamTranslator bookkeeping', () => {
  it('counts produced text and arguments, and exposes usage once seen', () => {
    const translator = new ChatStreamTranslator(ids());
    translator.push(textChunk('abc'));
    translator.push(callStart(0, 'c', 'f', '{"x"'));
    expect([translator.producedText, translator.usage]).toEqual(['abc{"x"', null]);
    translator.push(usageChunk());
    expect(translator.usage).toMatchObject({ input_tokens: 9, output_tokens: 6 });
  });

  it('ignores chunks after finish and finishes once', () => {
    const translator = new ChatStreamTranslator(ids());
    translator.push(textChunk('a'));
    const first = translator.finish();
    expect(translator.push(textChunk('b'))).toEqual([]);
    expect(translator.finish()).toEqual({ events: [], result: first.result });
  });

  it('keeps arguments that arrive for a call already closed in the result', () => {
    const { events, result } = translate([callStart(0, 'a', 'f', '{'), callStart(1, 'b', 'g', '{}'), callArgs(0, '}')]);
    checkSequence(events);
    expect(result.output.map((item) => item.arguments)).toEqual(['{}', '{}']);
  });
});
