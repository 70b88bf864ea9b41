/**
 * Regression tests (issue 11, defects 1, 2 and 5): nothing kept that should not be, in MongoDB or in Redis; model
 * names and item types that are Object.prototype keys; the request stored once, not once per stream event.
 */
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { uniqueName, waitFor } from '../support/env';
import { KEYS, type Stack, startStack, UPSTREAM_KEY } from '../support/stack';
import { openStores, type StackStores, streamBytes } from '../support/stores';

let mock: MockUpstream;
let stack: Stack;
let stores: StackStores;
let alice: OpenAI;

const PRICE_TABLE = JSON.stringify({ 'gpt-priced': { input: 1_000_000, output: 1_000_000 } });

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  stack = await startStack({ upstreamUrl: mock.url, env: { SYNC_TIMEOUT_MS: '1500', PRICE_TABLE } });
  stores = await openStores(stack);
  alice = stack.client(KEYS.alice);
}, 90_000);

afterAll(async () => {
  await stores?.close();
  await stack?.stop();
  await mock?.close();
});

const callsFor = (key: string) => mock.calls().filter((c) => c.key === key);

describe('store: false keeps only its usage tombstone, on every way out', () => {
  it('a synchronous chat completion (store defaults to false) that times out leaves no messages behind', async () => {
    const model = uniqueName('gpt-timeout-');
    const secret = uniqueName('the content nobody may keep ');
    const err = await alice.chat.completions
      .create({ model, messages: [{ role: 'user', content: secret }], metadata: { mock_latency_ms: '20000' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    const docs = await waitFor('the call to be cancelled and forgotten', async () => {
      const found = await stores.db.collection('chat_completions').find({ model }).toArray();
      return found.length === 1 && found[0].deletedAt && found[0].status === 'cancelled' ? found : undefined;
    });
    expect(docs[0].commonData.requestRawData).toEqual({});
    expect(docs[0].metadata).toBeNull();
    expect(JSON.stringify(docs)).not.toContain(secret);
  });

  it('a synchronous response whose client hangs up is forgotten too', async () => {
    const model = uniqueName('gpt-hangup-');
    const secret = uniqueName('hung up content ');
    const key = uniqueName('hangup-');
    const controller = new AbortController();
    const pending = alice.responses
      .create(
        { model, input: secret, store: false, metadata: { mock_key: key, mock_latency_ms: '20000' } },
        { signal: controller.signal },
      )
      .catch((e: unknown) => e);
    await waitFor('the upstream call to start', () => (callsFor(key)[0]?.outcome === 'running' ? true : undefined));
    controller.abort();
    await pending;
    const docs = await waitFor('the tombstone', async () => {
      const found = await stores.db.collection('responses').find({ model }).toArray();
      return found.length === 1 && found[0].deletedAt ? found : undefined;
    });
    expect(JSON.stringify(docs)).not.toContain(secret);
    expect(docs[0].inputItems).toEqual([]);
  });

  it('a streamed store: false response leaves no event log in Redis once it ended', async () => {
    const secret = uniqueName('streamed content ');
    const stream = await alice.responses.create({ model: 'gpt-test', input: secret, store: false, stream: true });
    let id = '';
    for await (const e of stream as AsyncIterable<ResponseStreamEvent>) {
      if (e.type === 'response.created') id = e.response.id;
    }
    await waitFor('the log to be gone', async () =>
      (await stores.redis.exists(stores.logKey(id))) === 0 ? true : undefined,
    );
    expect(await stores.redisDump()).not.toContain(secret);
  });

  it('DELETE removes the event log of a stored response at once', async () => {
    const r = await alice.responses.create({ model: 'gpt-test', input: 'keep me a while', background: true });
    await waitFor('done', async () =>
      (await alice.responses.retrieve(r.id)).status === 'completed' ? true : undefined,
    );
    expect(await stores.redis.exists(stores.logKey(r.id))).toBe(1);
    await alice.responses.delete(r.id);
    expect(await stores.redis.exists(stores.logKey(r.id))).toBe(0);
  });
});

describe('request input that names Object.prototype keys', () => {
  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty'])(
    'model %s: priced as unknown (0), completed, the upstream called once',
    async (model) => {
      const key = uniqueName('proto-');
      const done = await alice.responses.create({ model, input: 'hi', metadata: { mock_key: key } });
      expect(done.status).toBe('completed');
      expect(callsFor(key)).toHaveLength(1);
      const doc = await stores.db.collection('responses').findOne({ responseId: done.id });
      expect(doc?.commonData.costCoins).toBe(0);
      expect(doc?.upstreamCalls).toBe(1);
    },
  );

  it('an input item of type "constructor" gets an ordinary item id', async () => {
    const r = await alice.responses.create({
      model: 'gpt-test',
      background: true,
      input: [{ type: 'constructor', content: 'x' } as never, { role: 'user', content: 'hi' }],
    });
    const items = await alice.responses.inputItems.list(r.id, { order: 'asc' });
    expect(items.data[0].id).toMatch(/^item_[0-9a-f]{48}$/);
  });
});

describe('the request is stored once, not in every stream event', () => {
  it('2 MiB of instructions cost the event log a few kilobytes, and clients still get them in every lifecycle event', async () => {
    const instructions = 'i'.repeat(2 * 1024 * 1024);
    const stream = await alice.responses.create({
      model: 'gpt-test',
      input: 'hi',
      instructions,
      background: true,
      stream: true,
    });
    let id = '';
    const lifecycle: string[] = [];
    for await (const e of stream as AsyncIterable<ResponseStreamEvent>) {
      if (e.type === 'response.created') id = e.response.id;
      if ('response' in e) lifecycle.push(`${e.type}:${(e.response.instructions as string | null)?.length}`);
    }
    expect(lifecycle).toEqual([
      'response.created:2097152',
      'response.queued:2097152',
      'response.in_progress:2097152',
      'response.completed:2097152',
    ]);
    const bytes = await streamBytes(stores.redis, stores.logKey(id));
    process.stdout.write(`\n[trust] event log of a response with 2 MiB of instructions: ${bytes} bytes in Redis\n`);
    expect(bytes).toBeLessThan(64 * 1024);
  });
});
