/**
 * Isolation by construction, proven endpoint by endpoint: with a second user's key, every
 * endpoint that takes an id or lists answers 404 or an empty page, and nothing changes.
 */
import OpenAI from 'openai';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { waitFor } from '../support/env';
import { KEYS, type Stack, startStack, UPSTREAM_KEY } from '../support/stack';

let mock: MockUpstream;
let stack: Stack;
let owner: OpenAI;
let ids: { response: string; running: string; chat: string; bgChat: string; conversation: string; item: string };

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  stack = await startStack({ upstreamUrl: mock.url });
  owner = stack.client(KEYS.alice);
  const response = await owner.responses.create({
    model: 'gpt-test',
    input: 'mine',
    background: true,
    metadata: { tag: 'a' },
  });
  const running = await owner.responses.create({
    model: 'gpt-test',
    input: 'slow',
    background: true,
    metadata: { mock_latency_ms: '60000' },
  });
  const chat = await owner.chat.completions.create({
    model: 'gpt-test',
    store: true,
    messages: [{ role: 'user', content: 'mine' }],
    metadata: { tag: 'a' },
  });
  const bgChat = (await owner.chat.completions.create({
    model: 'gpt-test',
    messages: [{ role: 'user', content: 'slow' }],
    background: true,
    metadata: { mock_latency_ms: '60000' },
  } as never)) as { id: string };
  const conversation = await owner.conversations.create({
    metadata: { tag: 'a' },
    items: [{ role: 'user', content: 'mine' }],
  });
  const item = (await owner.conversations.items.list(conversation.id)).data[0] as { id: string };
  ids = {
    response: response.id,
    running: running.id,
    chat: chat.id,
    bgChat: bgChat.id,
    conversation: conversation.id,
    item: item.id,
  };
  await waitFor('the first response', async () =>
    (await owner.responses.retrieve(response.id)).status === 'completed' ? true : undefined,
  );
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await mock?.close();
});

/** Everything the owner can see, to compare before and after the other user's attempts. */
async function ownerView() {
  return {
    response: await owner.responses.retrieve(ids.response),
    running: (await owner.responses.retrieve(ids.running)).status,
    items: (await owner.responses.inputItems.list(ids.response)).data,
    chat: await owner.chat.completions.retrieve(ids.chat),
    bgChat: ((await owner.chat.completions.retrieve(ids.bgChat)) as { status?: string }).status,
    messages: (await owner.chat.completions.messages.list(ids.chat)).data,
    list: (await owner.chat.completions.list()).data.map((c) => c.id),
    conversation: await owner.conversations.retrieve(ids.conversation),
    conversationItems: (await owner.conversations.items.list(ids.conversation)).data,
  };
}

type Attempt = [string, (c: OpenAI, base: string, key: string) => Promise<unknown>];

const omg = (base: string, key: string, path: string, body: Record<string, string>) =>
  fetch(`${base}/api/v1/ai/openai/v1/chat/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const by404: Attempt[] = [
  ['responses get', (c) => c.responses.retrieve(ids.response)],
  ['responses cancel', (c) => c.responses.cancel(ids.running)],
  ['responses delete', (c) => c.responses.delete(ids.response)],
  ['responses input_items', (c) => c.responses.inputItems.list(ids.response)],
  ['responses stream replay', (c) => c.responses.retrieve(ids.running, { stream: true })],
  ['chat get', (c) => c.chat.completions.retrieve(ids.chat)],
  ['chat update', (c) => c.chat.completions.update(ids.chat, { metadata: { tag: 'stolen' } })],
  ['chat delete', (c) => c.chat.completions.delete(ids.chat)],
  ['chat messages', (c) => c.chat.completions.messages.list(ids.chat)],
  ['chat cancel', (c) => c.post(`/chat/completions/${ids.bgChat}/cancel`)],
  ['conversation get', (c) => c.conversations.retrieve(ids.conversation)],
  ['conversation update', (c) => c.conversations.update(ids.conversation, { metadata: { tag: 'stolen' } })],
  ['conversation delete', (c) => c.conversations.delete(ids.conversation)],
  ['conversation items list', (c) => c.conversations.items.list(ids.conversation)],
  [
    'conversation items create',
    (c) => c.conversations.items.create(ids.conversation, { items: [{ role: 'user', content: 'x' }] }),
  ],
  ['conversation item get', (c) => c.conversations.items.retrieve(ids.item, { conversation_id: ids.conversation })],
  ['conversation item delete', (c) => c.conversations.items.delete(ids.item, { conversation_id: ids.conversation })],
  [
    'a turn in their conversation',
    (c) => c.responses.create({ model: 'gpt-test', input: 'x', conversation: ids.conversation }),
  ],
];

describe("another user's key", () => {
  it.each(by404)('%s answers 404', async (_name, attempt) => {
    const before = await ownerView();
    const err = await attempt(stack.client(KEYS.bob), stack.apiUrls[0], KEYS.bob).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await ownerView()).toEqual(before);
  });

  it.each([
    ['OhMyGPT get', 'get-completion-data'],
    ['OhMyGPT delete', 'delete-completion-data'],
  ])('%s answers 404', async (_name, path) => {
    const before = await ownerView();
    const res = await omg(stack.apiUrls[0], KEYS.bob, path, { responseId: ids.chat });
    expect(res.status).toBe(404);
    expect(await ownerView()).toEqual(before);
  });

  it('cannot continue their response (400 previous_response_not_found, as for an unknown id)', async () => {
    const before = await ownerView();
    const err = await stack
      .client(KEYS.bob)
      .responses.create({ model: 'gpt-test', input: 'x', previous_response_id: ids.response })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: 'previous_response_not_found' });
    expect(await ownerView()).toEqual(before);
  });

  it('lists nothing of the owner, the OpenAI way and the OhMyGPT way, and usage stays apart', async () => {
    const bob = stack.client(KEYS.bob);
    expect((await bob.chat.completions.list()).data).toEqual([]);
    expect((await bob.chat.completions.list({ metadata: { tag: 'a' } })).data).toEqual([]);
    const page = (await (await omg(stack.apiUrls[0], KEYS.bob, 'list-completions-data', {})).json()) as {
      data: { total: number; items: unknown[] };
    };
    expect(page.data).toMatchObject({ total: 0, items: [] });
    const filtered = (await (
      await omg(stack.apiUrls[0], KEYS.bob, 'list-completions-data', { responseId: ids.chat })
    ).json()) as { data: { total: number } };
    expect(filtered.data.total).toBe(0);
    expect(((await bob.get('/usage')) as { data: unknown[] }).data).toEqual([]);
  });
});
