/**
 * Streaming end to end: SSE for responses (sync and background) and chat, resume from another
 * api replica, disconnects, cancel, failures mid-stream, replay after the log's retention.
 */
import type { Cluster, Redis } from 'ioredis';
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { uniqueName, waitFor } from '../support/env';
import { waitForMockCall } from '../support/poll';
import { KEYS, redisOf, type Stack, startStack, UPSTREAM_KEY } from '../support/stack';

let mock: MockUpstream;
let stack: Stack;
let a: OpenAI; // replica 0
let b: OpenAI; // replica 1

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  stack = await startStack({
    upstreamUrl: mock.url,
    apis: 2,
    env: { SSE_HEARTBEAT_MS: '200', CANCEL_POLL_MS: '5000' },
  });
  a = stack.client(KEYS.alice, 0);
  b = stack.client(KEYS.alice, 1);
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await mock?.close();
});

const callsFor = (key: string) => mock.calls().filter((c) => c.key === key);
type Ev = ResponseStreamEvent & { sequence_number: number };

/** Sequence numbers strictly increasing by one, starting where expected. */
function expectContiguous(events: Ev[], first: number): void {
  expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => first + i));
}

const deltas = (events: Ev[]) =>
  events
    .filter((e) => e.type === 'response.output_text.delta')
    .map((e) => (e as { delta: string }).delta)
    .join('');
const finalOf = (events: Ev[]) => (events.at(-1) as { response: OpenAI.Responses.Response }).response;
/** The text of a response as carried in raw events (the SDK adds output_text only on create/retrieve). */
const textOf = (r: OpenAI.Responses.Response) =>
  r.output
    .flatMap((i) => (i.type === 'message' ? i.content : []))
    .map((p) => (p.type === 'output_text' ? p.text : ''))
    .join('');

async function collect(stream: AsyncIterable<ResponseStreamEvent>, stopAfterSeq = Infinity): Promise<Ev[]> {
  const out: Ev[] = [];
  for await (const e of stream) {
    out.push(e as Ev);
    if ((e as Ev).sequence_number >= stopAfterSeq) break;
  }
  return out;
}

describe('responses streaming', () => {
  it('streams a synchronous response in order, starting with response.created, without [DONE]', async () => {
    const events = await collect(
      await a.responses.create({
        model: 'gpt-test',
        input: 'stream me',
        stream: true,
        metadata: { mock_tokens: '12' },
      }),
    );
    expectContiguous(events, 0);
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array(12).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect((events[0] as { response: { status: string; id: string } }).response.status).toBe('in_progress');
    const final = finalOf(events);
    expect(final.status).toBe('completed');
    expect(final.id).toMatch(/^resp_/);
    expect(final.usage?.output_tokens).toBe(12);
    expect(deltas(events)).toBe(textOf(final));
    expect(textOf(final)).toBe('Mock token1 token2 token3 token4 token5 token6 token7 token8 token9 token10 token11');
  });

  it('puts event: and data: lines on the wire, heartbeats as comments, and no [DONE]', async () => {
    const res = await fetch(`${stack.apiUrls[0]}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', input: 'raw', stream: true, metadata: { mock_latency_ms: '700' } }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const text = await res.text();
    expect(text).toMatch(/^(: keepalive\n\n)*event: response\.created\ndata: \{"type":"response\.created",/);
    expect(text).toContain(': keepalive\n\n'); // 200 ms heartbeats during the 700 ms wait
    expect(text).not.toContain('[DONE]');
    expect(text.trimEnd().split('\n\n').at(-1)).toMatch(/^event: response\.completed\ndata: /);
  });

  it('streams a background response: created (queued), queued, in_progress, ... completed', async () => {
    const events = await collect(
      await a.responses.create({ model: 'gpt-test', input: 'bg stream', stream: true, background: true }),
    );
    expectContiguous(events, 0);
    expect(events.slice(0, 3).map((e) => e.type)).toEqual([
      'response.created',
      'response.queued',
      'response.in_progress',
    ]);
    expect((events[0] as { response: { status: string; background: boolean } }).response).toMatchObject({
      status: 'queued',
      background: true,
    });
    expect(finalOf(events).status).toBe('completed');
  });

  it('works with the strict responses.stream() helper', async () => {
    const stream = a.responses.stream({ model: 'gpt-test', input: 'helper', metadata: { mock_tokens: '5' } });
    const final = await stream.finalResponse();
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe('Mock token1 token2 token3 token4');
  });

  it('resumes after a dropped connection from another replica, with retrieve and with the stream helper', async () => {
    const key = uniqueName('resume-');
    const first = await collect(
      await a.responses.create({
        model: 'gpt-test',
        input: 'long',
        stream: true,
        background: true,
        metadata: { mock_key: key, mock_tokens: '40', mock_token_delay_ms: '40' },
      }),
      8,
    );
    // The first connection is gone (break aborts it); the background job runs on.
    expectContiguous(first, 0);
    const id = (first[0] as { response: { id: string } }).response.id;
    const n = first.at(-1)!.sequence_number;

    const rest = await collect(
      (await b.responses.retrieve(id, { stream: true, starting_after: n })) as AsyncIterable<ResponseStreamEvent>,
    );
    expectContiguous(rest, n + 1);
    const final = finalOf(rest);
    expect(final.status).toBe('completed');
    expect(deltas([...first, ...rest])).toBe(textOf(final));

    // The helper replays in full and drops what the client already has.
    const helper = b.responses.stream({ response_id: id, starting_after: n });
    const seen: number[] = [];
    helper.on('event', (e) => seen.push((e as Ev).sequence_number));
    const helperFinal = await helper.finalResponse();
    expect(seen[0]).toBe(n + 1);
    expect(helperFinal.output_text).toBe(textOf(final));
    expect(callsFor(key)).toHaveLength(1);
  });

  it('replays a background response created without stream, from the start', async () => {
    const created = await a.responses.create({ model: 'gpt-test', input: 'poll me', background: true });
    const events = await collect(
      (await b.responses.retrieve(created.id, { stream: true })) as AsyncIterable<ResponseStreamEvent>,
    );
    expectContiguous(events, 0);
    expect(events[0].type).toBe('response.created');
    expect(finalOf(events).id).toBe(created.id);
    expect(deltas(events)).toBe(textOf(finalOf(events)));
    expect(deltas(events)).toBe('Mock token1 token2 token3 token4 token5 token6 token7');
  });

  it('cancels a synchronous stream whose client disconnects, aborting the upstream within a second', async () => {
    const key = uniqueName('sync-gone-');
    const stream = await a.responses.create({
      model: 'gpt-test',
      input: 'x',
      stream: true,
      metadata: { mock_key: key, mock_tokens: '100', mock_token_delay_ms: '50' },
    });
    let id = '';
    for await (const e of stream) {
      if (e.type === 'response.created') id = e.response.id;
      if (e.type === 'response.output_text.delta') break; // closes the connection
    }
    const closedAt = Date.now();
    const aborted = await waitForMockCall(mock, key, 'aborted', 3000, 20);
    expect(aborted.endedAt! - closedAt).toBeLessThan(1000);
    expect(id).toMatch(/^resp_/);
  });

  it('leaves a background job running when its stream disconnects', async () => {
    const key = uniqueName('bg-gone-');
    const first = await collect(
      await a.responses.create({
        model: 'gpt-test',
        input: 'x',
        stream: true,
        background: true,
        metadata: { mock_key: key, mock_tokens: '20', mock_token_delay_ms: '20' },
      }),
      5,
    );
    const id = (first[0] as { response: { id: string } }).response.id;
    const done = await waitFor(
      'completion',
      async () => {
        const r = await a.responses.retrieve(id);
        return r.status === 'completed' ? r : undefined;
      },
      10_000,
      100,
    );
    expect(done.output_text).toContain('token19');
    expect(callsFor(key)[0].outcome).toBe('ok');
  });

  it('ends an open stream cleanly when the response is cancelled', async () => {
    const key = uniqueName('cancel-stream-');
    const stream = await a.responses.create({
      model: 'gpt-test',
      input: 'x',
      stream: true,
      background: true,
      metadata: { mock_key: key, mock_tokens: '200', mock_token_delay_ms: '30' },
    });
    const events: Ev[] = [];
    let cancelledAt = 0;
    for await (const e of stream) {
      events.push(e as Ev);
      if (e.type === 'response.output_text.delta' && cancelledAt === 0) {
        cancelledAt = Date.now();
        await b.responses.cancel((events[0] as { response: { id: string } }).response.id);
      }
    }
    expect(Date.now() - cancelledAt).toBeLessThan(3000);
    expect(events.some((e) => e.type === 'response.completed')).toBe(false);
    expectContiguous(events, 0);
    await waitForMockCall(mock, key, 'aborted', 3000);
  });

  it('ends with response.failed when the upstream breaks after output was sent, without a retry', async () => {
    for (const mode of ['stream_error', 'midstream']) {
      const key = uniqueName(`${mode}-`);
      const events = await collect(
        await a.responses.create({
          model: 'gpt-test',
          input: 'x',
          stream: true,
          background: true,
          metadata: { mock_key: key, mock_fail: mode, mock_tokens: '10' },
        }),
      );
      expectContiguous(events, 0);
      const last = events.at(-1)!;
      expect(last.type).toBe('response.failed');
      const failed = finalOf(events);
      expect(failed.status).toBe('failed');
      expect(failed.error?.message).toContain('the stream broke after output was sent');
      expect(callsFor(key)).toHaveLength(1);
    }
  });

  it('retries a failure that happened before any output, without repeating events', async () => {
    const key = uniqueName('early-');
    const events = await collect(
      await a.responses.create({
        model: 'gpt-test',
        input: 'x',
        stream: true,
        background: true,
        metadata: { mock_key: key, mock_fail: '503', mock_fail_times: '1' },
      }),
    );
    expectContiguous(events, 0);
    expect(events.filter((e) => e.type === 'response.in_progress')).toHaveLength(1);
    expect(finalOf(events).status).toBe('completed');
    expect(callsFor(key).map((c) => c.status)).toEqual([503, 200]);
  });

  it('answers at once, with nothing more, when starting_after is at or past the end', async () => {
    const events = await collect(
      await a.responses.create({ model: 'gpt-test', input: 'short', stream: true, background: true }),
    );
    const id = finalOf(events).id;
    const last = events.at(-1)!.sequence_number;
    for (const after of [last, last + 1000]) {
      const started = Date.now();
      const rest = await collect(
        (await b.responses.retrieve(id, { stream: true, starting_after: after })) as AsyncIterable<ResponseStreamEvent>,
      );
      expect(rest).toEqual([]);
      expect(Date.now() - started).toBeLessThan(1000);
    }
    const tail = await collect(
      (await b.responses.retrieve(id, {
        stream: true,
        starting_after: last - 1,
      })) as AsyncIterable<ResponseStreamEvent>,
    );
    expect(tail.map((e) => e.sequence_number)).toEqual([last]);
  });

  it('refuses to stream a synchronous response again, and a bad starting_after', async () => {
    const sync = await a.responses.create({ model: 'gpt-test', input: 'sync' });
    const err = (await a.responses.retrieve(sync.id, { stream: true }).catch((e: unknown) => e)) as InstanceType<
      typeof OpenAI.BadRequestError
    >;
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe('stream');
    const bg = await a.responses.create({ model: 'gpt-test', input: 'bg', background: true });
    const bad = await fetch(`${stack.apiUrls[0]}/v1/responses/${bg.id}?stream=true&starting_after=-3`, {
      headers: { authorization: `Bearer ${KEYS.alice}` },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('starting_after');
    const bob = stack.client(KEYS.bob);
    await expect(bob.responses.retrieve(bg.id, { stream: true })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe('chat streaming', () => {
  it('streams chunks: role first, finish_reason last, [DONE], no usage unless asked', async () => {
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of await a.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    }))
      chunks.push(c);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0].id).toMatch(/^chatcmpl-/);
    expect(chunks[0].object).toBe('chat.completion.chunk');
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('stop');
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(chunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe(
      'Mock token1 token2 token3 token4 token5 token6 token7',
    );
  });

  it('adds the usage chunk with empty choices when include_usage is set, then [DONE]', async () => {
    const res = await fetch(`${stack.apiUrls[1]}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-test',
        messages: [{ role: 'user', content: 'count me' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    const frames = (await res.text()).split('\n\n').filter((f) => f.startsWith('data: '));
    expect(frames.at(-1)).toBe('data: [DONE]');
    const usage = JSON.parse(frames.at(-2)!.slice(6)) as OpenAI.ChatCompletionChunk;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 8, total_tokens: 10 });
    expect(frames.some((f) => f.startsWith('event:'))).toBe(false);
  });

  it('stores a streamed completion whole once it is done', async () => {
    let id = '';
    for await (const c of await a.chat.completions.create({
      model: 'gpt-test',
      store: true,
      messages: [{ role: 'user', content: 'keep' }],
      stream: true,
    }))
      id = c.id;
    const stored = await waitFor('the stored completion', async () => {
      const got = await a.chat.completions.retrieve(id).catch(() => undefined);
      return got?.choices.length ? got : undefined;
    });
    expect(stored.choices[0].message.content).toBe('Mock token1 token2 token3 token4 token5 token6 token7');
    expect(stored.usage).toMatchObject({ prompt_tokens: 1, completion_tokens: 8 });
  });

  it('cancels a chat stream whose client disconnects, aborting the upstream call', async () => {
    const key = uniqueName('chat-gone-');
    const stream = await a.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      metadata: { mock_key: key, mock_tokens: '100', mock_token_delay_ms: '50' },
    });
    for await (const c of stream) if (c.choices[0]?.delta.content) break;
    const closedAt = Date.now();
    const aborted = await waitForMockCall(mock, key, 'aborted', 3000, 20);
    expect(aborted.endedAt! - closedAt).toBeLessThan(1000);
  });

  it('ends with an error payload the SDK throws when the upstream fails mid-stream', async () => {
    const stream = await a.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      metadata: { mock_fail: 'stream_error', mock_tokens: '10' },
    });
    const err = await (async () => {
      for await (const c of stream) void c;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain('the stream broke after output was sent');
  });
});

describe('after the event log retention window', () => {
  let short: Stack;
  let redis: Redis | Cluster;
  beforeAll(async () => {
    short = await startStack({ upstreamUrl: mock.url, env: { EVENT_LOG_RETENTION_S: '1' } });
    redis = redisOf(short.env);
  }, 60_000);
  afterAll(async () => {
    await short?.stop();
    redis?.disconnect();
  });

  it('replays a finished response from its stored final state', async () => {
    const client = short.client(KEYS.alice);
    const live = await collect(
      await client.responses.create({ model: 'gpt-test', input: 'keep', stream: true, background: true }),
    );
    const id = finalOf(live).id;
    const key = `${short.prefix}:events:${id}`;
    expect(await redis.exists(key)).toBe(1);
    await waitFor('the log to expire', async () => ((await redis.exists(key)) === 0 ? true : undefined), 5000, 100);
    const replay = await collect(
      (await client.responses.retrieve(id, { stream: true })) as AsyncIterable<ResponseStreamEvent>,
    );
    expectContiguous(replay, 0);
    expect(replay.map((e) => e.type)).toEqual([
      'response.created',
      'response.queued',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(deltas(replay)).toBe(deltas(live));
    expect(finalOf(replay).output).toEqual(finalOf(live).output);
    const helper = await client.responses.stream({ response_id: id }).finalResponse();
    expect(helper.output_text).toBe(deltas(live));
  });
});
