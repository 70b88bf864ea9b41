/**
 * Regression tests (issue 11, defects 3, 4 and 9): no secret or internal text in answers, storage or logs; cancelled
 * and abandoned calls billed for what the upstream produced; Idempotency-Key makes a client's retry safe.
 */
import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { uniqueName, waitFor } from '../support/env';
import { KEYS, type Stack, startStack, UPSTREAM_KEY } from '../support/stack';
import { openStores, type StackStores } from '../support/stores';

let mock: MockUpstream;
let stack: Stack;
let stores: StackStores;
let alice: OpenAI;

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  stack = await startStack({ upstreamUrl: mock.url, env: { CANCEL_POLL_MS: '500' } });
  stores = await openStores(stack);
  alice = stack.client(KEYS.alice);
}, 90_000);

afterAll(async () => {
  await stores?.close();
  await stack?.stop();
  await mock?.close();
});

const callsFor = (key: string) => mock.calls().filter((c) => c.key === key);
const usageOf = async (model: string) =>
  (
    (await (
      await fetch(`${stack.apiUrls[0]}/v1/usage`, { headers: { authorization: `Bearer ${KEYS.alice}` } })
    ).json()) as {
      data: { model: string; requests: number; output_tokens: number }[];
    }
  ).data.find((d) => d.model === model);

describe('an upstream that echoes our credential', () => {
  it('never puts UPSTREAM_API_KEY in a client answer, MongoDB, Redis or a log', async () => {
    const key = uniqueName('echo-');
    const meta = { mock_key: key, mock_fail: '400', mock_echo_auth: '1' };
    const sync = await alice.responses
      .create({ model: 'gpt-test', input: 'hi', metadata: meta })
      .catch((e: unknown) => e);
    expect(sync).toBeInstanceOf(OpenAI.BadRequestError);
    const message = (sync as Error).message;
    expect(message).toContain('mock upstream: injected 400 (you sent authorization: Bearer [redacted])');
    const bg = await alice.responses.create({ model: 'gpt-test', input: 'hi', background: true, metadata: meta });
    const failed = await waitFor('failed', async () => {
      const r = await alice.responses.retrieve(bg.id);
      return r.status === 'failed' ? r : undefined;
    });
    expect(failed.error?.message).toContain('[redacted]');
    const retryable = { ...meta, mock_fail: '503', mock_fail_times: '1', mock_key: uniqueName('echo503-') };
    const recovered = await alice.responses.create({ model: 'gpt-test', input: 'hi', metadata: retryable });
    expect(recovered.status).toBe('completed'); // the first attempt's 503 (with the key in it) was retried
    const everywhere = [
      message,
      JSON.stringify(failed),
      JSON.stringify(await stores.db.collection('responses').find({}).toArray()),
      await stores.redisDump(),
      stack.logText(),
    ];
    for (const text of everywhere) expect(text).not.toContain(UPSTREAM_KEY);
  });
});

describe('billing what the upstream produced', () => {
  it('a streamed chat completion whose client hung up after some chunks is billed for the output so far', async () => {
    const model = uniqueName('gpt-hangup-');
    const stream = await alice.chat.completions.create({
      model,
      stream: true,
      messages: [{ role: 'user', content: 'a long story' }],
      metadata: { mock_tokens: '30', mock_token_delay_ms: '100' },
    });
    let chunks = 0;
    for await (const c of stream as AsyncIterable<ChatCompletionChunk>) {
      if (c.choices[0]?.delta?.content) chunks++;
      if (chunks >= 5) break; // hang up
    }
    const row = await waitFor('usage of the abandoned call', async () => {
      const u = await usageOf(model);
      return u && u.output_tokens > 0 ? u : undefined;
    });
    expect(row.requests).toBe(1);
    expect(row.output_tokens).toBeGreaterThanOrEqual(5);
    expect(row.output_tokens).toBeLessThan(30);
  });

  it('a background response cancelled mid-generation is billed for the tokens generated', async () => {
    const model = uniqueName('gpt-cancelled-');
    const key = uniqueName('bill-');
    const r = await alice.responses.create({
      model,
      input: 'go on',
      background: true,
      metadata: { mock_key: key, mock_tokens: '40', mock_token_delay_ms: '100' },
    });
    await waitFor('some output', async () => ((await stores.redis.xlen(stores.logKey(r.id))) > 8 ? true : undefined));
    expect((await alice.responses.cancel(r.id)).status).toBe('cancelled');
    const row = await waitFor('usage of the cancelled call', async () => {
      const u = await usageOf(model);
      return u && u.output_tokens > 0 ? u : undefined;
    });
    expect(row.requests).toBe(1);
    expect(row.output_tokens).toBeGreaterThan(0);
    expect(row.output_tokens).toBeLessThan(40);
    expect((await alice.responses.retrieve(r.id)).status).toBe('cancelled');
  });
});

describe('Idempotency-Key', () => {
  it('a retry with the same key and body gets the same call, and the upstream is called once', async () => {
    const idem = uniqueName('idem-');
    const key = uniqueName('idem-call-');
    const body = { model: 'gpt-test', input: 'once only', background: true, metadata: { mock_key: key } };
    const headers = { 'Idempotency-Key': idem };
    const first = await alice.responses.create(body, { headers });
    const again = await alice.responses.create(body, { headers });
    expect(again.id).toBe(first.id);
    await waitFor('done', async () =>
      (await alice.responses.retrieve(first.id)).status === 'completed' ? true : undefined,
    );
    const third = await alice.responses.create(body, { headers });
    expect(third).toMatchObject({ id: first.id, status: 'completed' });
    expect(callsFor(key)).toHaveLength(1);
  });

  it('a synchronous retry while the first is still running waits for the same result', async () => {
    const key = uniqueName('idem-sync-');
    const body = {
      model: 'gpt-test',
      input: 'slow once',
      store: true,
      metadata: { mock_key: key, mock_latency_ms: '800' },
    };
    const headers = { 'Idempotency-Key': uniqueName('idem-') };
    const [a, b] = await Promise.all([
      alice.responses.create(body, { headers }),
      alice.responses.create(body, { headers }),
    ]);
    expect(b.id).toBe(a.id);
    expect(b.output_text).toBe(a.output_text);
    expect(callsFor(key)).toHaveLength(1);
  });

  it('the same key with another body is a 409, not retried; another user may use the same key', async () => {
    const headers = { 'Idempotency-Key': uniqueName('idem-') };
    await alice.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'a' }] }, { headers });
    const err = await alice.chat.completions
      .create({ model: 'gpt-test', messages: [{ role: 'user', content: 'b' }] }, { headers, maxRetries: 2 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.ConflictError);
    expect((err as InstanceType<typeof OpenAI.ConflictError>).code).toBe('idempotency_key_reused');
    const bob = stack.client(KEYS.bob);
    const theirs = await bob.chat.completions.create(
      { model: 'gpt-test', messages: [{ role: 'user', content: 'b' }] },
      { headers },
    );
    expect(theirs.choices[0].message.content).toContain('Mock');
  });
});
