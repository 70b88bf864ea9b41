/**
 * One fuzz file's world: the MOCK upstream with zero latency, a stack of the built api and worker (its own processes,
 * database and queue prefix), and records made in setup so that ids also hit real data (and 2xx paths). Every family
 * file calls useFuzzStack() first; at the end of the file the coverage report is printed and the stack stopped.
 */
import { type MockUpstream, startMockUpstream } from '../../../../tools/mock-upstream/mock-upstream';
import { pollUntilTerminal } from '../../../support/poll';
import { KEYS, type Stack, startStack, UPSTREAM_KEY } from '../../../support/stack';
import { ADMIN, ADMIN_TOKEN, AUTH, JSON_CT, REQUEST_TIMEOUT_MS, RUNS } from './config';
import { printCoverage } from './coverage';

export interface World {
  mock: MockUpstream;
  stack: Stack;
  /** The api's base URL. */
  base: string;
}

/** This file's stack, set up by useFuzzStack() before its tests run. */
export const world = {} as World;

/** Records made in setup, so that ids also hit real data (and 2xx paths). */
export const real = {
  bgResponses: [] as string[],
  syncResponse: '',
  cancelledResponse: '',
  storedChats: [] as string[],
  bgChat: '',
  unstoredChat: '',
  keyIds: [] as string[],
  /** Only the deleting properties pick these. */
  victimResponses: [] as string[],
  victimChats: [] as string[],
};
export const allResponseIds = () => [...real.bgResponses, real.syncResponse, real.cancelledResponse];
export const allChatIds = () => [...real.storedChats, real.bgChat, real.unstoredChat];

async function json(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = AUTH,
): Promise<Record<string, unknown>> {
  const res = await fetch(world.base + path, {
    method,
    headers: { ...headers, ...JSON_CT },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const out = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`setup ${method} ${path}: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

/** Registers this file's setup (stack and records) and teardown (coverage report, stack stopped). */
export function useFuzzStack(): void {
  // A property makes at most a few hundred ms of requests per run; bigger FUZZ_RUNS get more time.
  jest.setTimeout(Math.max(60_000, RUNS * 1_500));

  beforeAll(async () => {
    world.mock = await startMockUpstream({ apiKey: UPSTREAM_KEY, defaults: { latencyMs: 0, tokenDelayMs: 0 } });
    world.stack = await startStack({ upstreamUrl: world.mock.url, env: { ADMIN_TOKEN, SYNC_TIMEOUT_MS: '20000' } });
    world.base = world.stack.apiUrls[0];

    const bg = await Promise.all([
      json('POST', '/v1/responses', {
        model: 'gpt-fuzz',
        input: 'one',
        background: true,
        metadata: { project: 'fuzz' },
      }),
      json('POST', '/v1/responses', {
        model: 'gpt-fuzz',
        background: true,
        input: [
          { role: 'user', content: 'first' },
          { type: 'message', role: 'assistant', content: 'second' },
          { role: 'user', content: [{ type: 'input_text', text: 'third' }] },
        ],
      }),
      json('POST', '/v1/responses', { model: 'gpt-fuzz', input: 'victim', background: true }),
      json('POST', '/v1/responses', { model: 'gpt-fuzz', input: 'victim', background: true }),
    ]);
    real.bgResponses = bg.slice(0, 2).map((r) => r.id as string);
    real.victimResponses = bg.slice(2).map((r) => r.id as string);
    real.syncResponse = (await json('POST', '/v1/responses', { model: 'gpt-fuzz', input: 'sync' })).id as string;
    const slow = await json('POST', '/v1/responses', {
      model: 'gpt-fuzz',
      input: 'slow',
      background: true,
      metadata: { mock_latency_ms: '30000' },
    });
    real.cancelledResponse = (await json('POST', `/v1/responses/${slow.id as string}/cancel`)).id as string;

    const chats = await Promise.all([
      json('POST', '/v1/chat/completions', {
        model: 'gpt-fuzz',
        store: true,
        metadata: { project: 'fuzz' },
        messages: [
          { role: 'system', content: 'Be brief' },
          { role: 'user', content: 'Hi' },
        ],
      }),
      json('POST', '/v1/chat/completions', {
        model: 'gpt-fuzz-b',
        store: true,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
      }),
      json('POST', '/v1/chat/completions', {
        model: 'gpt-fuzz',
        background: true,
        messages: [{ role: 'user', content: 'Background' }],
      }),
      json('POST', '/v1/chat/completions', { model: 'gpt-fuzz', messages: [{ role: 'user', content: 'Not stored' }] }),
      json('POST', '/v1/chat/completions', {
        model: 'gpt-fuzz',
        store: true,
        messages: [{ role: 'user', content: 'victim' }],
      }),
      json('POST', '/v1/chat/completions', {
        model: 'gpt-fuzz',
        store: true,
        messages: [{ role: 'user', content: 'victim' }],
      }),
    ]);
    real.storedChats = chats.slice(0, 2).map((c) => c.id as string);
    real.bgChat = chats[2].id as string;
    real.unstoredChat = chats[3].id as string;
    real.victimChats = chats.slice(4).map((c) => c.id as string);

    real.keyIds = [(await json('POST', '/admin/keys', { user_id: 'fuzz-user', name: 'fuzz' }, ADMIN)).id as string];

    const alice = world.stack.client(KEYS.alice);
    await Promise.all([
      ...[...real.bgResponses, ...real.victimResponses].map((id) =>
        pollUntilTerminal(alice, id, { timeoutMs: 20_000 }),
      ),
      pollUntilTerminal(alice, real.bgChat, { kind: 'chat', timeoutMs: 20_000 }),
    ]);
  }, 90_000);

  afterAll(async () => {
    printCoverage();
    await world.stack?.stop();
    await world.mock?.close();
  });
}
