/**
 * Chat completions as queued jobs, the stored-completions API and OhMyGPT's store endpoints,
 * end to end: built api and worker processes, real Redis and MongoDB wire server, MOCK upstream.
 */
import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { uniqueName } from '../support/env';
import { type BackgroundChat, pollUntilTerminal, waitForMockCall } from '../support/poll';
import { KEYS, type Stack, startStack, UPSTREAM_KEY } from '../support/stack';

let mock: MockUpstream;
let stack: Stack;
let alice: OpenAI;
let bob: OpenAI;

// m-a is priced at 1 coin per input token and 2 per output token; m-b has no price.
const PRICE_TABLE = JSON.stringify({ 'm-a': { input: 1_000_000, output: 2_000_000 } });

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  stack = await startStack({
    upstreamUrl: mock.url,
    apis: 2,
    env: { PRICE_TABLE },
    apiEnv: [{}, { TRUST_PROXY: 'loopback' }],
  });
  alice = stack.client(KEYS.alice);
  bob = stack.client(KEYS.bob);
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await mock?.close();
});

const callsFor = (key: string) => mock.calls().filter((c) => c.key === key);
type Bg = BackgroundChat;
const pollChat = (client: OpenAI, id: string) => pollUntilTerminal(client, id, { kind: 'chat' });

describe('chat completions through the queue', () => {
  it('answers a ChatCompletion and does not store it by default', async () => {
    const key = uniqueName('chat-');
    const c = await alice.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'Say test' }],
      metadata: { mock_key: key },
    });
    expect(c.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(c.object).toBe('chat.completion');
    expect(Math.abs(c.created - Date.now() / 1000)).toBeLessThan(60);
    expect(c.model).toBe('gpt-test-mock');
    expect(c.choices[0]).toMatchObject({
      index: 0,
      finish_reason: 'stop',
      message: { role: 'assistant', content: 'Mock token1 token2 token3 token4 token5 token6 token7' },
    });
    expect(c.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 8, total_tokens: 10 });
    expect(callsFor(key)).toHaveLength(1);
    await expect(alice.chat.completions.retrieve(c.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('stores a completion with store: true, with its metadata, and updates and deletes it', async () => {
    const c = await alice.chat.completions.create({
      model: 'gpt-test',
      store: true,
      messages: [{ role: 'user', content: 'keep me' }],
      metadata: { project: 'x' },
    });
    const got = await alice.chat.completions.retrieve(c.id);
    expect(got).toMatchObject({ id: c.id, object: 'chat.completion', choices: c.choices, metadata: { project: 'x' } });
    const updated = await alice.chat.completions.update(c.id, { metadata: { stage: 'reviewed' } });
    expect((updated as { metadata?: unknown }).metadata).toEqual({ stage: 'reviewed' }); // replaced, not merged
    const bad = (await alice
      .post(`/chat/completions/${c.id}`, { body: { metadata: {}, model: 'other' } })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad.param).toBe('model');
    expect(await alice.chat.completions.delete(c.id)).toEqual({
      object: 'chat.completion.deleted',
      id: c.id,
      deleted: true,
    });
    await expect(alice.chat.completions.retrieve(c.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(alice.chat.completions.messages.list(c.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('lists stored completions with filters, and auto-pagination visits each once over three pages', async () => {
    const batch = uniqueName('batch-');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const c = await alice.chat.completions.create({
        model: i % 2 === 0 ? 'gpt-even' : 'gpt-odd',
        store: true,
        messages: [{ role: 'user', content: `n${i}` }],
        metadata: { batch, parity: i % 2 === 0 ? 'even' : 'odd' },
      });
      ids.push(c.id);
    }
    await alice.chat.completions.create({
      model: 'gpt-even',
      messages: [{ role: 'user', content: 'not stored' }],
      metadata: { batch },
    });

    const seen: string[] = [];
    for await (const c of alice.chat.completions.list({ metadata: { batch }, limit: 3 })) seen.push(c.id);
    expect(seen).toEqual(ids); // asc by default, stored only, each once

    const first = await alice.chat.completions.list({ metadata: { batch }, limit: 3, order: 'desc' });
    expect(first.data.map((c) => c.id)).toEqual(ids.slice(4).reverse());
    expect(first.has_more).toBe(true);

    const evens = [];
    for await (const c of alice.chat.completions.list({ metadata: { batch, parity: 'even' }, limit: 2 }))
      evens.push(c.id);
    expect(evens).toEqual([ids[0], ids[2], ids[4], ids[6]]);
    const odd = await alice.chat.completions.list({ metadata: { batch }, model: 'gpt-odd' });
    expect(odd.data.map((c) => c.id)).toEqual([ids[1], ids[3], ids[5]]);

    const raw = (await alice.get('/chat/completions', { query: { metadata: { batch }, limit: 2 } })) as {
      object: string;
      first_id: string;
      last_id: string;
      has_more: boolean;
    };
    expect(raw).toMatchObject({ object: 'list', first_id: ids[0], last_id: ids[1], has_more: true });
  });

  it('lists the stored request messages', async () => {
    const c = await alice.chat.completions.create({
      model: 'gpt-test',
      store: true,
      messages: [
        { role: 'system', content: 'be brief' },
        {
          role: 'user',
          name: 'ann',
          content: [
            { type: 'text', text: 'part one' },
            { type: 'text', text: 'part two' },
          ],
        },
      ],
    });
    const page = await alice.chat.completions.messages.list(c.id);
    expect(page.data).toEqual([
      { id: `${c.id}-0`, role: 'system', content: 'be brief', name: null, content_parts: null },
      {
        id: `${c.id}-1`,
        role: 'user',
        content: 'part one\npart two',
        name: 'ann',
        content_parts: [
          { type: 'text', text: 'part one' },
          { type: 'text', text: 'part two' },
        ],
      },
    ]);
    const second = await alice.chat.completions.messages.list(c.id, { limit: 1, after: `${c.id}-0` });
    expect(second.data.map((m) => m.id)).toEqual([`${c.id}-1`]);
    const desc = await alice.chat.completions.messages.list(c.id, { order: 'desc', limit: 1 });
    expect(desc.data[0].id).toBe(`${c.id}-1`);
    expect(desc.has_more).toBe(true);
  });

  it('validates the request and names the parameter', async () => {
    const noMessages = (await alice.chat.completions
      .create({ model: 'm' } as never)
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(noMessages.param).toBe('messages');
    const empty = (await alice.chat.completions
      .create({ model: 'm', messages: [] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(empty.param).toBe('messages');
    const role = (await alice.chat.completions
      .create({ model: 'm', messages: [{ role: 'robot', content: 'x' }] } as never)
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(role.param).toBe('messages[0].role');
    const limit = (await alice.chat.completions.list({ limit: 0 }).catch((e: unknown) => e)) as InstanceType<
      typeof OpenAI.BadRequestError
    >;
    expect(limit.param).toBe('limit');
    const filter = await fetch(`${stack.apiUrls[0]}/v1/chat/completions?metadata[$where]=1`, {
      headers: { authorization: `Bearer ${KEYS.alice}` },
    });
    expect(filter.status).toBe(400);
  });
});

describe('background chat jobs (our extension)', () => {
  it('answers queued at once and shows status until done', async () => {
    const created = (await alice.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'later' }],
      background: true,
    } as never)) as Bg;
    expect(created).toMatchObject({ object: 'chat.completion', status: 'queued', choices: [], usage: null });
    const done = await pollChat(alice, created.id);
    expect(done.status).toBe('completed');
    expect(done.choices[0].message.content).toContain('Mock');
    const listed = await alice.chat.completions.list({ order: 'desc', limit: 5 });
    expect(listed.data.map((c) => c.id)).toContain(created.id);
  });

  it('cancels a running job: the upstream call is aborted and the status sticks', async () => {
    const key = uniqueName('chat-cancel-');
    const created = (await alice.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'slow' }],
      background: true,
      metadata: { mock_key: key, mock_latency_ms: '30000' },
    } as never)) as Bg;
    await waitForMockCall(mock, key, 'running');
    const cancelled = (await alice.post(`/chat/completions/${created.id}/cancel`, {
      headers: { 'x-should-retry': 'false' },
    })) as Bg;
    expect(cancelled.status).toBe('cancelled');
    await waitForMockCall(mock, key, 'aborted', 5000);
    expect(((await alice.chat.completions.retrieve(created.id)) as Bg).status).toBe('cancelled');
    const again = (await alice.post(`/chat/completions/${created.id}/cancel`)) as Bg;
    expect(again.status).toBe('cancelled');
  });

  it('refuses to cancel a finished or synchronous completion', async () => {
    const bg = (await alice.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'q' }],
      background: true,
    } as never)) as Bg;
    await pollChat(alice, bg.id);
    const done = (await alice.post(`/chat/completions/${bg.id}/cancel`).catch((e: unknown) => e)) as Error;
    expect(done.message).toBe('400 Cannot cancel a completed chat completion.');
    const sync = await alice.chat.completions.create({
      model: 'gpt-test',
      store: true,
      messages: [{ role: 'user', content: 'q' }],
    });
    const err = (await alice.post(`/chat/completions/${sync.id}/cancel`).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe('400 Cannot cancel a synchronous chat completion.');
  });

  it('ends in failed with an error after the upstream keeps failing', async () => {
    const key = uniqueName('chat-fail-');
    const created = (await alice.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'x' }],
      background: true,
      metadata: { mock_key: key, mock_fail: '502' },
    } as never)) as Bg;
    const done = await pollChat(alice, created.id);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('server_error');
    expect(callsFor(key)).toHaveLength(3);
  });
});

describe("OhMyGPT's store endpoints", () => {
  const base = () => stack.apiUrls[0];
  const carolForm = (fields: Record<string, string | string[]>) => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    return {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.carol}`, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    };
  };
  const list = async (fields: Record<string, string | string[]>) => {
    const res = await fetch(`${base()}/api/v1/ai/openai/v1/chat/list-completions-data`, carolForm(fields));
    return {
      status: res.status,
      body: (await res.json()) as {
        statusCode: number;
        message: string;
        data: { page: number; pageSize: number; total: number; totalPages: number; items: Record<string, unknown>[] };
      },
    };
  };
  const created: { id: string; requestId: string; rawBody: string; model: string }[] = [];

  beforeAll(async () => {
    for (const [i, model] of ['m-a', 'm-b', 'm-a', 'm-b', 'm-a'].entries()) {
      const rawBody = JSON.stringify({
        model,
        store: true,
        messages: [{ role: 'user', content: `stored number ${i}` }],
      });
      const res = await fetch(`${base()}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${KEYS.carol}`,
          'content-type': 'application/json',
          'user-agent': 'store-test/1.0',
        },
        body: rawBody,
      });
      expect(res.status).toBe(200);
      created.push({
        id: ((await res.json()) as { id: string }).id,
        requestId: res.headers.get('x-request-id')!,
        rawBody,
        model,
      });
    }
    await fetch(`${base()}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.carol}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm-a', messages: [{ role: 'user', content: 'not stored' }] }),
    });
  });

  it('lists with page arithmetic, newest first, as the form OhMyGPT documents (empty fields included)', async () => {
    const all = await list({ page: '1', pageSize: '20', sort: '', model: '', models: '', responseId: '', omgUrId: '' });
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({
      statusCode: 200,
      message: 'Query Success',
      data: { page: 1, pageSize: 20, total: 5, totalPages: 1 },
    });
    expect(all.body.data.items.map((i) => i.responseId)).toEqual(created.map((c) => c.id).reverse());

    const p1 = await list({ page: '1', pageSize: '2' });
    const p3 = await list({ page: '3', pageSize: '2' });
    const p4 = await list({ page: '4', pageSize: '2' });
    expect(p1.body.data).toMatchObject({ total: 5, totalPages: 3 });
    expect(p1.body.data.items.map((i) => i.responseId)).toEqual([created[4].id, created[3].id]);
    expect(p3.body.data.items.map((i) => i.responseId)).toEqual([created[0].id]);
    expect(p4.body.data.items).toEqual([]);
    const asc = await list({ sort: 'asc', pageSize: '2' });
    expect(asc.body.data.items.map((i) => i.responseId)).toEqual([created[0].id, created[1].id]);
  });

  it('filters by model, models, responseId and omgUrId', async () => {
    expect((await list({ model: 'm-a' })).body.data.total).toBe(3);
    expect((await list({ models: 'm-b' })).body.data.total).toBe(2);
    expect((await list({ models: ['m-a', 'm-b'] })).body.data.total).toBe(5);
    expect((await list({ models: 'm-b,unknown' })).body.data.total).toBe(2);
    const byId = await list({ responseId: created[2].id });
    expect(byId.body.data.items.map((i) => i.responseId)).toEqual([created[2].id]);
    const byReq = await list({ omgUrId: created[3].requestId });
    expect(byReq.body.data.items.map((i) => i.responseId)).toEqual([created[3].id]);
  });

  it("returns items in OhMyGPT's record shape with real field values", async () => {
    const item = (await list({ responseId: created[0].id })).body.data.items[0] as Record<string, any>;
    expect(Object.keys(item).sort()).toEqual([
      '_id',
      'commonData',
      'createdAt',
      'metadata',
      'omgUrId',
      'reqBodyHash',
      'responseId',
      'updatedAt',
      'userId',
    ]);
    expect(item._id).toMatch(/^[0-9a-f]{24}$/);
    expect(item.userId).toBe('carol');
    expect(item.omgUrId).toBe(created[0].requestId);
    expect(item.reqBodyHash).toBe(createHash('sha256').update(created[0].rawBody).digest('hex'));
    expect(new Date(item.createdAt).toISOString()).toBe(item.createdAt);
    expect(item.commonData.requestRawData).toEqual(JSON.parse(created[0].rawBody));
    expect(item.commonData.responseRawData).toMatchObject({ object: 'chat.completion', model: 'm-a-mock' });
    expect(item.commonData.openAIStoredBody).toMatchObject({ id: created[0].id, object: 'chat.completion' });
    expect(item.commonData.userAgent).toBe('store-test/1.0');
    expect(item.commonData.reqIp).toMatch(/127\.0\.0\.1$/);
    expect(item.commonData.usage).toEqual({ input_text: 3, output_text: 8 });
    expect(item.commonData.costCoins).toBe(3 * 1 + 8 * 2); // m-a: 1 coin/input token, 2/output token
    const unpriced = (await list({ responseId: created[1].id })).body.data.items[0] as Record<string, any>;
    expect(unpriced.commonData.costCoins).toBe(0);
    expect(item.metadata).toBeNull();
  });

  it('records the forwarded client address only behind a trusted proxy', async () => {
    const send = async (api: number) => {
      const res = await fetch(`${stack.apiUrls[api]}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${KEYS.carol}`,
          'content-type': 'application/json',
          'x-forwarded-for': '203.0.113.7',
        },
        body: JSON.stringify({ model: 'm-b', store: true, messages: [{ role: 'user', content: 'ip' }] }),
      });
      const { id } = (await res.json()) as { id: string };
      const item = (await list({ responseId: id })).body.data.items[0] as Record<string, any>;
      await fetch(`${base()}/api/v1/ai/openai/v1/chat/delete-completion-data`, carolForm({ responseId: id }));
      return item.commonData.reqIp as string;
    };
    expect(await send(0)).toMatch(/127\.0\.0\.1$/); // TRUST_PROXY=false: the header is ignored
    expect(await send(1)).toBe('203.0.113.7'); // TRUST_PROXY=loopback: the proxy's header counts
  });

  it('gets and deletes by responseId, with JSON bodies too', async () => {
    const headers = { authorization: `Bearer ${KEYS.carol}`, 'content-type': 'application/json' };
    const got = await fetch(`${base()}/api/v1/ai/openai/v1/chat/get-completion-data`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ responseId: created[4].id }),
    });
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({
      statusCode: 200,
      message: 'Query Success',
      data: { responseId: created[4].id, userId: 'carol' },
    });
    const del = await fetch(
      `${base()}/api/v1/ai/openai/v1/chat/delete-completion-data`,
      carolForm({ responseId: created[4].id }),
    );
    expect(await del.json()).toEqual({
      statusCode: 200,
      message: 'Delete Success',
      data: { responseId: created[4].id, deleted: true },
    });
    const again = await fetch(
      `${base()}/api/v1/ai/openai/v1/chat/get-completion-data`,
      carolForm({ responseId: created[4].id }),
    );
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({
      statusCode: 404,
      message: `Chat completion with responseId '${created[4].id}' not found.`,
      data: null,
    });
    created.pop();
  });

  it('answers errors in its own envelope', async () => {
    const bad = await list({ page: '0' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ statusCode: 400, data: null });
    expect(bad.body.message).toContain("'page'");
    const anon = await fetch(`${base()}/api/v1/ai/openai/v1/chat/list-completions-data`, { method: 'POST' });
    expect(anon.status).toBe(401);
    expect(await anon.json()).toMatchObject({ statusCode: 401, data: null });
    const missing = await fetch(`${base()}/api/v1/ai/openai/v1/chat/get-completion-data`, carolForm({}));
    expect(missing.status).toBe(400);
  });
});

describe('isolation between users', () => {
  it("refuses every chat endpoint for another user's completion and leaves it intact", async () => {
    const c = (await alice.chat.completions.create({
      model: 'gpt-test',
      store: true,
      messages: [{ role: 'user', content: 'mine' }],
      metadata: { owner: 'alice' },
    })) as Bg;
    const bg = (await alice.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'bg' }],
      background: true,
      metadata: { mock_latency_ms: '1000' },
    } as never)) as Bg;
    await expect(bob.chat.completions.retrieve(c.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(bob.chat.completions.update(c.id, { metadata: { owner: 'bob' } })).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    await expect(bob.chat.completions.delete(c.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(bob.chat.completions.messages.list(c.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(bob.post(`/chat/completions/${bg.id}/cancel`)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const bobList: string[] = [];
    for await (const x of bob.chat.completions.list({ limit: 100 })) bobList.push(x.id);
    expect(bobList).not.toContain(c.id);
    expect(bobList).not.toContain(bg.id);
    const auth = { authorization: `Bearer ${KEYS.bob}`, 'content-type': 'application/json' };
    const omg = `${stack.apiUrls[0]}/api/v1/ai/openai/v1/chat`;
    const listed = (await (
      await fetch(`${omg}/list-completions-data`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ responseId: c.id }),
      })
    ).json()) as { data: { total: number } };
    expect(listed.data.total).toBe(0);
    expect(
      (
        await fetch(`${omg}/get-completion-data`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ responseId: c.id }),
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await fetch(`${omg}/delete-completion-data`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ responseId: c.id }),
        })
      ).status,
    ).toBe(404);
    // Nothing changed for the owner.
    expect(await alice.chat.completions.retrieve(c.id)).toMatchObject({ id: c.id, metadata: { owner: 'alice' } });
    expect((await pollChat(alice, bg.id)).status).toBe('completed');
  });
});
