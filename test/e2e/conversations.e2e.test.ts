/**
 * Conversation state end to end (issue 12): previous_response_id resolved by us across sync, background and streamed
 * turns on two api processes; the Conversations API and turns in a conversation; background store: false kept only
 * for its retention; the poll pacing header. The MOCK upstream, like OpenAI, refuses ids it has never seen.
 */
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { specErrors } from '../support/openapi';
import { pollUntilTerminal } from '../support/poll';
import { KEYS, type Stack, startStack, UPSTREAM_KEY } from '../support/stack';
import { openStores, type StackStores } from '../support/stores';
import { uniqueName, waitFor } from '../support/env';

let mock: MockUpstream;
let stack: Stack;
let stores: StackStores;
let a: OpenAI; // api 0
let b: OpenAI; // api 1, same user
const NUMERIC_KEY = 'sk-test-numeric-0004';

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  const apiKeys = `${KEYS.alice}:alice,${KEYS.bob}:bob,${KEYS.carol}:carol,${NUMERIC_KEY}:12345`;
  stack = await startStack({
    upstreamUrl: mock.url,
    apis: 2,
    env: { API_KEYS: apiKeys, EPHEMERAL_RETENTION_S: '2', SWEEP_INTERVAL_MS: '500', POLL_AFTER_MS: '750' },
  });
  stores = await openStores(stack);
  a = stack.client(KEYS.alice, 0);
  b = stack.client(KEYS.alice, 1);
}, 90_000);

afterAll(async () => {
  await stores?.close();
  await stack?.stop();
  await mock?.close();
});

const callFor = (key: string) => mock.calls().find((c) => c.key === key)!;
/** What the upstream got as input, as (role or type, text) pairs. */
const sentInput = (key: string) =>
  (callFor(key).body.input as Record<string, unknown>[]).map((i) => {
    const content = i.content;
    const text =
      typeof content === 'string' ? content : Array.isArray(content) ? content.map((p) => p.text).join('') : '';
    return `${String(i.role ?? i.type)}: ${text}`;
  });
const OUT = 'assistant: Mock token1 token2 token3 token4 token5 token6 token7';

describe('previous_response_id', () => {
  it('chains a sync, a background and a streamed turn across two api processes; the upstream never sees our ids', async () => {
    const [k1, k2, k3] = [uniqueName('t1-'), uniqueName('t2-'), uniqueName('t3-')];
    const t1 = await a.responses.create({
      model: 'gpt-test',
      instructions: 'be terse',
      input: 'first',
      metadata: { mock_key: k1 },
    });
    const t2bg = await b.responses.create({
      model: 'gpt-test',
      input: 'second',
      previous_response_id: t1.id,
      background: true,
      metadata: { mock_key: k2 },
    });
    const t2 = await pollUntilTerminal(a, t2bg.id);
    expect(t2.status).toBe('completed');
    expect(sentInput(k2)).toEqual(['user: first', OUT, 'user: second']);
    // Instructions of an earlier turn are not carried over.
    expect(callFor(k2).body.instructions).toBeUndefined();
    const stream = await a.responses.create({
      model: 'gpt-test',
      input: [{ role: 'user', content: 'third' }],
      previous_response_id: t2.id,
      stream: true,
      metadata: { mock_key: k3 },
    });
    let t3: OpenAI.Responses.Response | null = null;
    for await (const e of stream as AsyncIterable<ResponseStreamEvent>)
      if (e.type === 'response.completed') t3 = e.response;
    expect(t3!.previous_response_id).toBe(t2.id);
    expect(sentInput(k3)).toEqual(['user: first', OUT, 'user: second', OUT, 'user: third']);
    for (const key of [k1, k2, k3]) {
      const sent = JSON.stringify(callFor(key).body);
      expect(sent).not.toMatch(/resp_[0-9a-f]{48}|msg_[0-9a-f]{48}/);
      expect(callFor(key).body.previous_response_id).toBeUndefined();
    }
    const items = await b.responses.inputItems.list(t3!.id);
    expect(items.data.map((i) => (i as { content: { text: string }[] }).content[0].text)).toEqual(['third']);
  });

  it('answers 400 previous_response_not_found for unknown, foreign and unstored ids, before any upstream call', async () => {
    const before = mock.calls().length;
    const bob = stack.client(KEYS.bob);
    const theirs = await bob.responses.create({ model: 'gpt-test', input: 'bob says' });
    const unstored = await a.responses.create({ model: 'gpt-test', input: 'forget me', store: false });
    for (const id of ['resp_0000000000000000000000000000000000000000000000000', theirs.id, unstored.id]) {
      const err = await a.responses
        .create({ model: 'gpt-test', input: 'x', previous_response_id: id })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect(err).toMatchObject({ code: 'previous_response_not_found', param: 'previous_response_id' });
      expect((err as Error).message).toContain(`Previous response with id '${id}' not found.`);
    }
    expect(mock.calls().length).toBe(before + 2); // bob's and the unstored one only
    const running = await a.responses.create({
      model: 'gpt-test',
      input: 'slow',
      background: true,
      metadata: { mock_latency_ms: '3000' },
    });
    const early = await a.responses
      .create({ model: 'gpt-test', input: 'x', previous_response_id: running.id })
      .catch((e: unknown) => e);
    expect(early).toMatchObject({ status: 400, code: 'previous_response_not_finished' });
    const conv = await a.conversations.create({});
    const both = await a.responses
      .create({ model: 'gpt-test', input: 'x', previous_response_id: running.id, conversation: conv.id })
      .catch((e: unknown) => e);
    expect(both).toMatchObject({ status: 400, param: 'conversation' });
    await a.responses.cancel(running.id);
  });
});

describe('the Conversations API', () => {
  it('creates, reads, updates, lists and deletes conversations and items, in the shapes of the spec', async () => {
    const conv = await a.conversations.create({
      metadata: { topic: 'demo' },
      items: [
        { type: 'message', role: 'system', content: 'You are helpful.' },
        { role: 'user', content: 'hello' },
      ],
    });
    expect(conv).toMatchObject({ object: 'conversation', metadata: { topic: 'demo' } });
    expect(conv.id).toMatch(/^conv_[0-9a-f]{48}$/);
    const raw = (path: string, init?: RequestInit) =>
      fetch(`${stack.apiUrls[1]}/v1/conversations${path}`, {
        ...init,
        headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' },
      }).then((r) => r.json());
    expect(specErrors('ConversationResource', await raw(`/${conv.id}`))).toEqual([]);
    expect((await b.conversations.update(conv.id, { metadata: { topic: 'changed' } })).metadata).toEqual({
      topic: 'changed',
    });
    const added = await b.conversations.items.create(conv.id, { items: [{ role: 'user', content: 'one more' }] });
    expect(added.data).toHaveLength(1);
    const desc = await a.conversations.items.list(conv.id, { limit: 2 });
    expect(specErrors('ConversationItemList', await raw(`/${conv.id}/items?limit=2`))).toEqual([]);
    expect(desc.data.map((i) => (i as { role: string }).role)).toEqual(['user', 'user']);
    const all: string[] = [];
    for await (const item of a.conversations.items.list(conv.id, { order: 'asc', limit: 1 }))
      all.push((item as { role: string }).role);
    expect(all).toEqual(['system', 'user', 'user']);
    const first = desc.data[1] as { id: string };
    expect((await a.conversations.items.retrieve(first.id, { conversation_id: conv.id })).id).toBe(first.id);
    expect((await a.conversations.items.delete(first.id, { conversation_id: conv.id })).id).toBe(conv.id);
    await expect(a.conversations.items.retrieve(first.id, { conversation_id: conv.id })).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    const deleted = await raw(`/${conv.id}`, { method: 'DELETE' });
    expect(specErrors('DeletedConversationResource', deleted)).toEqual([]);
    expect(deleted).toEqual({ id: conv.id, object: 'conversation.deleted', deleted: true });
    await expect(a.conversations.retrieve(conv.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('a conversation gives each turn its items and gets the turn added; items changed between turns count', async () => {
    const conv = await a.conversations.create({ items: [{ role: 'developer', content: 'Answer briefly.' }] });
    const [k1, k2, k3, kf] = [uniqueName('c1-'), uniqueName('c2-'), uniqueName('c3-'), uniqueName('cf-')];
    const r1 = await a.responses.create({
      model: 'gpt-test',
      input: 'q1',
      conversation: conv.id,
      metadata: { mock_key: k1 },
    });
    expect(r1.conversation).toEqual({ id: conv.id });
    expect(sentInput(k1)).toEqual(['developer: Answer briefly.', 'user: q1']);
    const failed = await a.responses
      .create({
        model: 'gpt-test',
        input: 'lost',
        conversation: { id: conv.id },
        metadata: { mock_key: kf, mock_fail: '400' },
      })
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.BadRequestError); // a failed turn leaves nothing in the conversation
    const note = await b.conversations.items.create(conv.id, { items: [{ role: 'user', content: 'a note' }] });
    const bg = await b.responses.create({
      model: 'gpt-test',
      input: 'q2',
      conversation: conv.id,
      background: true,
      metadata: { mock_key: k2 },
    });
    await pollUntilTerminal(a, bg.id);
    expect(sentInput(k2)).toEqual(['developer: Answer briefly.', 'user: q1', OUT, 'user: a note', 'user: q2']);
    await a.conversations.items.delete((note.data[0] as { id: string }).id, { conversation_id: conv.id });
    const stream = await a.responses.create({
      model: 'gpt-test',
      input: 'q3',
      conversation: conv.id,
      stream: true,
      metadata: { mock_key: k3 },
    });
    for await (const _ of stream as AsyncIterable<ResponseStreamEvent>) void _;
    expect(sentInput(k3)).toEqual(['developer: Answer briefly.', 'user: q1', OUT, 'user: q2', OUT, 'user: q3']);
    const items = await waitFor('the streamed turn to be added', async () => {
      const page = await a.conversations.items.list(conv.id, { order: 'asc', limit: 100 });
      return page.data.length === 7 ? page.data : undefined;
    });
    expect(items.map((i) => (i as { role: string }).role)).toEqual([
      'developer',
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
  });

  it('two turns running at once append in the order they finished, each as one block, losing nothing', async () => {
    const conv = await a.conversations.create({});
    const slow = a.responses.create({
      model: 'gpt-test',
      input: 'slow one',
      conversation: conv.id,
      metadata: { mock_latency_ms: '900' },
    });
    const fast = b.responses.create({
      model: 'gpt-test',
      input: 'fast one',
      conversation: conv.id,
      metadata: { mock_latency_ms: '100' },
    });
    await Promise.all([slow, fast]);
    const items = await waitFor('both turns', async () => {
      const page = await a.conversations.items.list(conv.id, { order: 'asc', limit: 100 });
      return page.data.length === 4 ? page.data : undefined;
    });
    const texts = items.map((i) => {
      const c = (i as { content: { text: string }[] }).content[0].text;
      return c.startsWith('Mock') ? 'answer' : c;
    });
    expect(texts).toEqual(['fast one', 'answer', 'slow one', 'answer']);
  });
});

describe('background without store', () => {
  it('is accepted, echoes store: false, can be polled and streamed, then is removed after its retention', async () => {
    const r = await a.responses.create({ model: 'gpt-test', input: 'fleeting', background: true, store: false });
    expect((r as { store?: boolean }).store).toBe(false);
    const done = await pollUntilTerminal(a, r.id);
    expect(done).toMatchObject({ status: 'completed', store: false });
    const replay: string[] = [];
    for await (const e of (await b.responses.retrieve(r.id, { stream: true })) as AsyncIterable<ResponseStreamEvent>)
      replay.push(e.type);
    expect(replay.at(-1)).toBe('response.completed');
    await waitFor(
      'the retention to end',
      async () =>
        (await a.responses.retrieve(r.id).then(
          () => undefined,
          (e: unknown) => e,
        )) ?? undefined,
      15_000,
      200,
    );
    const doc = await waitFor(
      'the tombstone',
      async () => {
        const d = await stores.db.collection('responses').findOne({ responseId: r.id });
        return d?.deletedAt ? d : undefined;
      },
      15_000,
    );
    expect(doc.inputItems).toEqual([]);
    expect(await stores.redis.exists(stores.logKey(r.id))).toBe(0);
  });
});

describe('polling and OhMyGPT details', () => {
  it('sends openai-poll-after-ms while a call is unfinished, and not after', async () => {
    const r = await a.responses.create({
      model: 'gpt-test',
      input: 'x',
      background: true,
      metadata: { mock_latency_ms: '1500' },
    });
    const { response } = await a.responses.retrieve(r.id).withResponse();
    expect(response.headers.get('openai-poll-after-ms')).toBe('750');
    await pollUntilTerminal(a, r.id);
    const later = await a.responses.retrieve(r.id).withResponse();
    expect(later.response.headers.get('openai-poll-after-ms')).toBeNull();
  });

  it('shows a numeric user id as a number in OhMyGPT records', async () => {
    const numeric = stack.client(NUMERIC_KEY);
    await numeric.chat.completions.create({
      model: 'gpt-test',
      store: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const res = await fetch(`${stack.apiUrls[0]}/api/v1/ai/openai/v1/chat/list-completions-data`, {
      method: 'POST',
      headers: { authorization: `Bearer ${NUMERIC_KEY}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const body = (await res.json()) as { data: { items: { userId: unknown }[] } };
    expect(body.data.items[0].userId).toBe(12345);
  });
});
