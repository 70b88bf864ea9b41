/**
 * Issue 13: routing by model over several upstreams, and the Responses API served by an upstream that speaks only
 * Chat Completions. One stack, two MOCK upstreams: `local` (chat-only, like llama.cpp's server) serves `llama-*` and
 * `shared-model`, `cloud` (a Responses upstream) serves `gpt-*`. No default route: other models are not served.
 * Driven by the official SDK, unchanged.
 */
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { type MockCall, type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { uniqueName, waitFor } from '../support/env';
import { pollUntilTerminal, waitForMockCall } from '../support/poll';
import { KEYS, type Stack, startStack } from '../support/stack';
import { openStores, type StackStores } from '../support/stores';

const LOCAL_KEY = 'sk-local-upstream-0005';
const CLOUD_KEY = 'sk-cloud-upstream-0006';

let local: MockUpstream;
let cloud: MockUpstream;
let stack: Stack;
let stores: StackStores;
let alice: OpenAI;

beforeAll(async () => {
  local = await startMockUpstream({ apiKey: LOCAL_KEY, chatOnly: true, models: ['llama-3-8b', 'mistral-7b'] });
  cloud = await startMockUpstream({ apiKey: CLOUD_KEY, models: ['gpt-test', 'gpt-other', 'whisper-1'] });
  const upstreams = [
    {
      name: 'local',
      base_url: `${local.url}/v1`,
      protocol: 'chat',
      models: ['llama-*', 'shared-model'],
      api_key_env: 'LOCAL_KEY',
    },
    { name: 'cloud', base_url: cloud.url, models: ['gpt-*'], api_key_env: 'CLOUD_KEY' },
  ];
  stack = await startStack({
    upstreamUrl: '',
    env: {
      UPSTREAMS: JSON.stringify(upstreams),
      LOCAL_KEY,
      CLOUD_KEY,
      UPSTREAM_API_KEY: '',
      PRICE_TABLE: JSON.stringify({
        'llama-3': { input: 1000, output: 1000 },
        'llama-3-mock': { input: 0, output: 2_000_000 },
      }),
    },
  });
  stores = await openStores(stack);
  alice = stack.client(KEYS.alice);
}, 90_000);

afterAll(async () => {
  await stores?.close();
  await stack?.stop();
  await local?.close();
  await cloud?.close();
});

const callsOf = (mock: MockUpstream, key: string): MockCall[] => mock.calls().filter((c) => c.key === key);
const messagesOf = (call: MockCall) => call.body.messages as { role: string; content: unknown; tool_calls?: unknown }[];
const stored = (id: string) => stores.db.collection('responses').findOne({ responseId: id });

describe('Responses over a Chat-Completions-only upstream', () => {
  it('answers a synchronous create: instructions become a system message, the answer an output message', async () => {
    const key = uniqueName('sync-');
    const r = await alice.responses.create({
      model: 'llama-3',
      instructions: 'Be brief.',
      input: 'Say hello',
      metadata: { mock_key: key },
    });
    expect(r.status).toBe('completed');
    expect(r.output_text).toBe('Mock token1 token2 token3 token4 token5 token6 token7');
    expect(r.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
    expect(r.usage).toMatchObject({ output_tokens: 8, output_tokens_details: { reasoning_tokens: 0 } });
    const [call] = callsOf(local, key);
    expect(call.path).toBe('/v1/chat/completions');
    expect(call.authorized).toBe(true);
    expect(messagesOf(call)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello' },
    ]);
    expect(callsOf(cloud, key)).toHaveLength(0);
    // The record names its route; the cost comes from the model the upstream reported (llama-3-mock).
    const doc = await stored(r.id);
    expect(doc?.route).toBe('local');
    expect(doc?.commonData?.costCoins).toBeCloseTo((8 * 2_000_000) / 1_000_000, 6);
  });

  it('runs a background create to completion', async () => {
    const key = uniqueName('bg-');
    const created = await alice.responses.create({
      model: 'llama-3',
      input: 'Say hello',
      background: true,
      metadata: { mock_key: key, mock_latency_ms: '200' },
    });
    expect(created.status).toBe('queued');
    const done = await pollUntilTerminal(alice, created.id);
    expect(done.status).toBe('completed');
    expect(done.output_text).toMatch(/^Mock token1/);
    expect(done.metadata).toEqual({ mock_key: key, mock_latency_ms: '200' });
  });

  it('streams the Responses event sequence the strict responses.stream() helper accepts', async () => {
    const key = uniqueName('stream-');
    const stream = alice.responses.stream({ model: 'llama-3', input: 'Say hello', metadata: { mock_key: key } });
    const types: string[] = [];
    const seqs: number[] = [];
    let deltas = '';
    for await (const ev of stream) {
      types.push(ev.type);
      seqs.push(ev.sequence_number);
      if (ev.type === 'response.output_text.delta') deltas += ev.delta;
    }
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(deltas);
    expect(deltas).toBe('Mock token1 token2 token3 token4 token5 token6 token7');
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types.slice(-4)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(seqs).toEqual(seqs.map((_, i) => i));
  });

  it('resumes a background stream after a sequence number', async () => {
    const key = uniqueName('resume-');
    const first = await alice.responses.create({
      model: 'llama-3',
      input: 'Say hello',
      background: true,
      stream: true,
      metadata: { mock_key: key },
    });
    const all: ResponseStreamEvent[] = [];
    for await (const ev of first) all.push(ev);
    const id = (all[0] as { response: { id: string } }).response.id;
    const resumed: ResponseStreamEvent[] = [];
    for await (const ev of await alice.responses.retrieve(id, { stream: true, starting_after: 4 })) resumed.push(ev);
    expect(resumed.map((e) => e.sequence_number)).toEqual(all.slice(5).map((e) => e.sequence_number));
    expect(resumed.map((e) => e.type)).toEqual(all.slice(5).map((e) => e.type));
    expect(resumed.at(-1)?.type).toBe('response.completed');
  });

  it('cancels a running response: the abort reaches the chat upstream', async () => {
    const key = uniqueName('cancel-');
    const created = await alice.responses.create({
      model: 'llama-3',
      input: 'Write a lot',
      background: true,
      metadata: { mock_key: key, mock_tokens: '200', mock_token_delay_ms: '100' },
    });
    await waitForMockCall(local, key, 'running', 10_000);
    const cancelled = await alice.responses.cancel(created.id);
    expect(cancelled.status).toBe('cancelled');
    const aborted = await waitForMockCall(local, key, 'aborted', 10_000);
    expect(aborted.endedAt! - aborted.startedAt).toBeLessThan(15_000);
    expect((await alice.responses.retrieve(created.id)).status).toBe('cancelled');
  });

  it('round-trips a function call: tool call out, function_call_output back in, final text', async () => {
    const key = uniqueName('tools-');
    const tools: OpenAI.Responses.Tool[] = [
      {
        type: 'function',
        name: 'get_weather',
        description: 'The weather in a city',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string' } },
          required: ['city'],
          additionalProperties: false,
        },
        strict: true,
      },
    ];
    const first = await alice.responses.create({
      model: 'llama-3',
      input: 'Weather in Paris?',
      tools,
      tool_choice: 'auto',
      parallel_tool_calls: false,
      metadata: { mock_key: key },
    });
    const call = first.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"mock"}' });
    const callId = (call as OpenAI.Responses.ResponseFunctionToolCall).call_id;
    expect(callId).toMatch(/^call_mock/);

    const second = await alice.responses.create({
      model: 'llama-3',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: callId, output: 'sunny' }],
      tools,
      metadata: { mock_key: key },
    });
    expect(second.output_text).toBe('Mock tool said: sunny');

    const [out, back] = callsOf(local, key);
    expect(out.body.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'The weather in a city',
          parameters: tools[0].type === 'function' ? tools[0].parameters : null,
          strict: true,
        },
      },
    ]);
    expect(out.body.tool_choice).toBe('auto');
    expect(out.body.parallel_tool_calls).toBe(false);
    // The second turn carries the first (resolved by us from previous_response_id) as chat messages.
    expect(messagesOf(back)).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: callId, type: 'function', function: { name: 'get_weather', arguments: '{"city":"mock"}' } }],
      },
      { role: 'tool', tool_call_id: callId, content: 'sunny' },
    ]);
  });

  it('translates text.format json_schema to response_format and answers its JSON', async () => {
    const key = uniqueName('json-');
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, age: { type: 'integer' } },
      required: ['name', 'age'],
      additionalProperties: false,
    };
    const r = await alice.responses.create({
      model: 'llama-3',
      input: 'A person',
      text: { format: { type: 'json_schema', name: 'person', schema, strict: true } },
      metadata: { mock_key: key },
    });
    expect(JSON.parse(r.output_text)).toEqual({ name: 'mock', age: 1 });
    expect(callsOf(local, key)[0].body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'person', schema, strict: true },
    });
  });

  it('maps a cut answer (finish_reason length) to incomplete with max_output_tokens', async () => {
    const key = uniqueName('len-');
    const r = await alice.responses.create({
      model: 'llama-3',
      input: 'Say hello',
      max_output_tokens: 16,
      metadata: { mock_key: key, mock_tokens: '40' },
    });
    expect(r.status).toBe('incomplete');
    expect(r.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(callsOf(local, key)[0].body.max_completion_tokens).toBe(16);
  });

  it('refuses a hosted tool the chat protocol cannot express, naming the param, before enqueueing', async () => {
    const key = uniqueName('hosted-');
    const err = await alice.responses
      .create({ model: 'llama-3', input: 'x', tools: [{ type: 'web_search' }], metadata: { mock_key: key } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toMatch(/^tools/);
    expect(
      await stores.db.collection('responses').countDocuments({ 'commonData.requestRawData.metadata.mock_key': key }),
    ).toBe(0);
  });
});

describe('routing by model', () => {
  it('sends each model to its route: gpt-* to the Responses upstream, llama-* to the chat one', async () => {
    const key = uniqueName('two-');
    const a = await alice.responses.create({ model: 'gpt-test', input: 'hi', metadata: { mock_key: key } });
    const b = await alice.responses.create({ model: 'shared-model', input: 'hi', metadata: { mock_key: key } });
    const c = await alice.chat.completions.create({
      model: 'llama-3',
      messages: [{ role: 'user', content: 'hi' }],
      metadata: { mock_key: key },
      store: true,
    });
    expect([a.status, b.status]).toEqual(['completed', 'completed']);
    expect(c.choices[0].message.content).toMatch(/^Mock token1/);
    expect(callsOf(cloud, key).map((x) => [x.path, x.model])).toEqual([['/v1/responses', 'gpt-test']]);
    expect(callsOf(local, key).map((x) => [x.path, x.model])).toEqual([
      ['/v1/chat/completions', 'shared-model'],
      ['/v1/chat/completions', 'llama-3'],
    ]);
    expect((await stored(a.id))?.route).toBe('cloud');
    expect((await stored(b.id))?.route).toBe('local');
  });

  it('answers 404 model_not_found for a model no route serves, and enqueues nothing', async () => {
    const err = await alice.responses
      .create({ model: 'claude-x', input: 'hi', background: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).param).toBe('model');
    const chatErr = await alice.chat.completions
      .create({ model: 'claude-x', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(chatErr).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await stores.db.collection('responses').countDocuments({ model: 'claude-x' })).toBe(0);
  });

  it('lists models: names from the routes, and what wildcard upstreams list (narrowed to the route)', async () => {
    const ids = await waitFor(
      'the workers to cache the upstreams model lists',
      async () => {
        const list: string[] = [];
        for await (const m of alice.models.list()) list.push(m.id);
        return list.includes('llama-3-8b') && list.includes('gpt-test') ? list : undefined;
      },
      15_000,
      200,
    );
    expect(ids).toEqual(['shared-model', 'llama-3-8b', 'gpt-test', 'gpt-other']);
    const m = await alice.models.retrieve('llama-3-8b');
    expect(m).toMatchObject({ id: 'llama-3-8b', object: 'model', owned_by: 'mock', created: 1_700_000_000 });
    expect((await alice.models.retrieve('shared-model')).owned_by).toBe('local');
    // Served by prefix though not listed: calls to it are routed, so it exists.
    expect((await alice.models.retrieve('llama-9')).id).toBe('llama-9');
    const missing = await alice.models.retrieve('whisper-1').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    const anonymous = await stack
      .client('sk-not-a-key')
      .models.list()
      .catch((e: unknown) => e);
    expect(anonymous).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
