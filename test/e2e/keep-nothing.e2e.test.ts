/**
 * Issue 16.1: synchronous store: false calls (chat by default, responses that say so, streamed or not) make no MongoDB
 * round trip on their way: the api's MongoDB commands are counted at a TCP proxy between it and the server. The
 * worker writes one usage tombstone per call, after the answer, and still does when the api is gone by then. Cancel
 * on disconnect, the synchronous timeout, rate limits and Idempotency-Key hold as for kept calls.
 */
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { CountingProxy, diffCounts } from '../../bench/lib/proxy';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { testServices, uniqueName, waitFor } from '../support/env';
import { KEYS, type Stack, startStack, UPSTREAM_KEY } from '../support/stack';
import { openStores, type StackStores } from '../support/stores';

const ADMIN = 'admin-token-for-keep-nothing-0123';
const MONITORING = /^(hello|ismaster|isMaster|op_query:.*|endSessions.*)$/i;

let mock: MockUpstream;
let stack: Stack;
let stores: StackStores;
let alice: OpenAI;
let apiMongo: CountingProxy;
let workerMongo: CountingProxy;

const target = () => {
  const u = new URL(testServices().mongoUri);
  return { host: u.hostname, port: Number(u.port || 27017) };
};

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  apiMongo = new CountingProxy(target(), 'mongo');
  workerMongo = new CountingProxy(target(), 'mongo');
  await apiMongo.listen();
  await workerMongo.listen();
  stack = await startStack({
    upstreamUrl: mock.url,
    env: { SYNC_TIMEOUT_MS: '1500', ADMIN_TOKEN: ADMIN, KEY_CACHE_TTL_MS: '600000' },
    apiStores: { mongoUri: `mongodb://127.0.0.1:${apiMongo.port}` },
    workerStores: { mongoUri: `mongodb://127.0.0.1:${workerMongo.port}` },
  });
  stores = await openStores(stack);
  alice = stack.client(KEYS.alice, 0, { maxRetries: 0 });
  // The key is looked up once, then cached: that read is not part of any call's way.
  const warm = uniqueName('gpt-warm-');
  await alice.chat.completions.create({ model: warm, messages: [{ role: 'user', content: 'warm up' }] });
  await waitFor('the warm-up tombstone', async () =>
    (await stores.db.collection('chat_completions').countDocuments({ model: warm })) === 1 ? true : undefined,
  );
}, 90_000);

afterAll(async () => {
  await stores?.close();
  await stack?.stop();
  await apiMongo?.close();
  await workerMongo?.close();
  await mock?.close();
});

/** The api's and the worker's MongoDB commands (monitoring left out) while `fn` runs. */
async function counted<T>(fn: () => Promise<T>): Promise<{ value: T; api: Record<string, number> }> {
  const before = apiMongo.snapshot();
  const value = await fn();
  const api = Object.fromEntries(
    Object.entries(diffCounts(apiMongo.snapshot(), before)).filter(([name]) => !MONITORING.test(name)),
  );
  return { value, api };
}

const tombstones = (collection: string, model: string) => stores.db.collection(collection).find({ model }).toArray();
const callsFor = (key: string) => mock.calls().filter((c) => c.key === key);

describe('no MongoDB on the way of a call that keeps nothing', () => {
  it('synchronous chat completions: answered with no api MongoDB command; one tombstone each, with usage', async () => {
    const model = uniqueName('gpt-eph-chat-');
    const workerBefore = workerMongo.snapshot();
    const { value, api } = await counted(() =>
      Promise.all(
        [0, 1, 2, 3, 4].map((i) =>
          alice.chat.completions.create({
            model,
            messages: [{ role: 'user', content: `hello number ${i}` }],
            metadata: { mock_tokens: '3' },
          }),
        ),
      ),
    );
    expect(api).toEqual({});
    for (const c of value) expect(c.choices[0].message.content).toContain('Mock');
    const docs = await waitFor('five tombstones', async () => {
      const found = await tombstones('chat_completions', model);
      return found.length === 5 ? found : undefined;
    });
    for (const d of docs) {
      expect(d).toMatchObject({ status: 'completed', store: false, metadata: null });
      expect(d.deletedAt).toBeInstanceOf(Date);
      expect(d.commonData.requestRawData).toEqual({});
      expect(d.commonData.usage.output_text).toBe(3);
    }
    expect(new Set(docs.map((d) => d.responseId))).toEqual(new Set(value.map((c) => c.id)));
    // The worker's part: one write per call (the tombstone), nothing read.
    const worker = diffCounts(workerMongo.snapshot(), workerBefore);
    expect(worker.insert).toBe(5);
    expect(worker.find ?? 0).toBe(0);
    expect(worker.findAndModify ?? 0).toBe(0);
  });

  it('a synchronous store: false response, and streamed chat and responses, make no api MongoDB command', async () => {
    const model = uniqueName('gpt-eph-resp-');
    const { value, api } = await counted(async () => {
      const sync = await alice.responses.create({ model, input: 'not kept', store: false });
      const chatStream = await alice.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'stream me' }],
        stream: true,
      });
      let chatText = '';
      for await (const chunk of chatStream) chatText += chunk.choices[0]?.delta?.content ?? '';
      const respStream = await alice.responses.create({ model, input: 'stream too', store: false, stream: true });
      const types: string[] = [];
      let final: ResponseStreamEvent | undefined;
      for await (const e of respStream as AsyncIterable<ResponseStreamEvent>) {
        types.push(e.type);
        final = e;
      }
      return { sync, chatText, types, final };
    });
    expect(api).toEqual({});
    expect(value.sync).toMatchObject({ status: 'completed', store: false });
    expect(value.sync.output_text).toContain('Mock');
    expect(value.chatText).toContain('Mock');
    expect(value.types[0]).toBe('response.created');
    expect(value.final?.type).toBe('response.completed');
    expect((value.final as { response: { output_text?: string; status: string } }).response.status).toBe('completed');
    // Nothing readable afterwards, as before.
    await expect(alice.responses.retrieve(value.sync.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await waitFor('the three tombstones', async () => {
      const n = (await tombstones('responses', model)).length + (await tombstones('chat_completions', model)).length;
      return n === 3 ? true : undefined;
    });
    // The request did not stay in Redis: the job went with the call.
    expect(await stores.redisDump()).not.toContain('stream too');
  });

  it('once a client has its answer its request is nowhere in Redis, while the tombstone is still on its way', async () => {
    const model = uniqueName('gpt-eph-gone-');
    const secret = uniqueName('answered then gone ');
    // The worker's tombstone insert reaches MongoDB 1.5 s late: the job is still in Redis all that time.
    workerMongo.hold('insert', 1500);
    try {
      const chat = await alice.chat.completions.create({ model, messages: [{ role: 'user', content: `${secret} 1` }] });
      expect(chat.choices[0].message.content).toContain('Mock');
      expect(await stores.redisDump()).not.toContain(secret);
      const stream = await alice.responses.create({ model, input: `${secret} 2`, store: false, stream: true });
      let last = '';
      for await (const e of stream as AsyncIterable<ResponseStreamEvent>) last = e.type;
      expect(last).toBe('response.completed');
      expect(await stores.redisDump()).not.toContain(secret);
      // It was measured inside the window: neither tombstone had been written yet.
      expect(await tombstones('chat_completions', model)).toHaveLength(0);
    } finally {
      workerMongo.release();
    }
    await waitFor('both tombstones', async () => {
      const n = (await tombstones('responses', model)).length + (await tombstones('chat_completions', model)).length;
      return n === 2 ? true : undefined;
    });
  });

  it('a background call of a user without webhook endpoints makes 3 MongoDB round trips, none for webhooks', async () => {
    const workerBefore = workerMongo.snapshot();
    const { value, api } = await counted(() =>
      alice.responses.create({ model: uniqueName('gpt-bg-trips-'), input: 'kept', background: true }),
    );
    const done = await waitFor('completed', async () => {
      const r = await alice.responses.retrieve(value.id);
      return r.status === 'completed' ? r : undefined;
    });
    expect(done.output_text).toContain('Mock');
    // Give a webhook dispatch that should not happen the time to show up.
    await new Promise((r) => setTimeout(r, 300));
    const worker = Object.fromEntries(
      Object.entries(diffCounts(workerMongo.snapshot(), workerBefore)).filter(([name]) => !MONITORING.test(name)),
    );
    expect({ api, worker }).toEqual({ api: { insert: 1 }, worker: { findAndModify: 2 } });
  });

  it('a failed upstream call is the client error it was, and its tombstone says failed', async () => {
    const model = uniqueName('gpt-eph-fail-');
    const err = await alice.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'x' }], metadata: { mock_fail: '400' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const docs = await waitFor('the tombstone', async () => {
      const found = await tombstones('chat_completions', model);
      return found.length === 1 ? found : undefined;
    });
    expect(docs[0]).toMatchObject({ status: 'failed' });
  });
});

describe('what still holds for calls that keep nothing', () => {
  it('a client that goes away cancels the upstream call; the tombstone says cancelled', async () => {
    const model = uniqueName('gpt-eph-gone-');
    const key = uniqueName('gone-');
    const controller = new AbortController();
    const pending = alice.chat.completions
      .create(
        {
          model,
          messages: [{ role: 'user', content: 'hang up' }],
          metadata: { mock_key: key, mock_latency_ms: '20000' },
        },
        { signal: controller.signal },
      )
      .catch((e: unknown) => e);
    await waitFor('the upstream call to start', () => (callsFor(key)[0]?.outcome === 'running' ? true : undefined));
    controller.abort();
    await pending;
    await waitFor('the upstream call aborted', () => (callsFor(key)[0]?.outcome === 'aborted' ? true : undefined));
    const docs = await waitFor('the tombstone', async () => {
      const found = await tombstones('chat_completions', model);
      return found.length === 1 ? found : undefined;
    });
    expect(docs[0]).toMatchObject({ status: 'cancelled' });
  });

  it('the synchronous timeout answers 504 and stops the upstream call', async () => {
    const key = uniqueName('slow-');
    const started = Date.now();
    const err = await alice.responses
      .create({ model: 'gpt-test', input: 'slow', store: false, metadata: { mock_key: key, mock_latency_ms: '20000' } })
      .catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    expect(Date.now() - started).toBeLessThan(10_000);
    await waitFor('the upstream call aborted', () => (callsFor(key)[0]?.outcome === 'aborted' ? true : undefined));
  });

  it('the concurrency limit of a key holds, and its slot is freed when the call ends', async () => {
    const admin = async (path: string, body: unknown) => {
      const res = await fetch(`${stack.apiUrls[0]}/admin/keys${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await res.json()) as { id: string; secret: string; limits: { concurrency: number } };
    };
    const created = await admin('', { user_id: 'limited' });
    expect((await admin(`/${created.id}`, { concurrency: 1 })).limits.concurrency).toBe(1);
    const limited = stack.client(created.secret, 0, { maxRetries: 0 });
    const key = uniqueName('limited-');
    const body = { model: 'gpt-test', messages: [{ role: 'user' as const, content: 'one at a time' }] };
    const slow = limited.chat.completions.create({ ...body, metadata: { mock_key: key, mock_latency_ms: '800' } });
    await waitFor('the first call to be running', () => (callsFor(key)[0]?.outcome === 'running' ? true : undefined));
    const err = await limited.chat.completions.create(body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((await slow).choices[0].message.content).toContain('Mock');
    // The slot is free by the time the answer is in: calls sent back to back, each on the last one's answer, all pass.
    for (let i = 0; i < 20; i++) {
      const next = await limited.chat.completions.create(body);
      expect(next.choices[0].message.content).toContain('Mock');
    }
  });

  it('Idempotency-Key: a retry while the first runs gets the same answer, and the upstream is called once', async () => {
    const key = uniqueName('idem-eph-');
    const headers = { 'Idempotency-Key': uniqueName('idem-') };
    const body = {
      model: 'gpt-test',
      messages: [{ role: 'user' as const, content: 'once' }],
      metadata: { mock_key: key, mock_latency_ms: '600' },
    };
    const [a, b] = await Promise.all([
      alice.chat.completions.create(body, { headers }),
      alice.chat.completions.create(body, { headers }),
    ]);
    expect(b.id).toBe(a.id);
    expect(b.choices[0].message.content).toBe(a.choices[0].message.content);
    expect(callsFor(key)).toHaveLength(1);
  });

  it('usage is counted even when the api is gone before the answer: the worker writes the tombstone', async () => {
    const model = uniqueName('gpt-eph-orphan-');
    const key = uniqueName('orphan-');
    const pending = alice.chat.completions
      .create({
        model,
        messages: [{ role: 'user', content: 'who will hear this' }],
        metadata: { mock_key: key, mock_latency_ms: '1500', mock_tokens: '7' },
      })
      .catch((e: unknown) => e);
    await waitFor('the upstream call to start', () => (callsFor(key)[0]?.outcome === 'running' ? true : undefined));
    stack.apis[0].kill('SIGKILL');
    await pending;
    const docs = await waitFor(
      'the tombstone',
      async () => {
        const found = await tombstones('chat_completions', model);
        return found.length === 1 ? found : undefined;
      },
      10_000,
    );
    expect(docs[0]).toMatchObject({ status: 'completed' });
    expect(docs[0].commonData.usage.output_text).toBe(7);
    expect(callsFor(key)).toHaveLength(1);
  });
});
