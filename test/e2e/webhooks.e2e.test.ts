/**
 * Completion webhooks end to end: a loopback receiver verifies every delivery with the official SDK's
 * `webhooks.unwrap` and records it. One event per call for the terminal transition that won; retries keep their
 * webhook-id; per-user endpoints get only their user's events; a rotated secret signs alongside the old one.
 */
import type OpenAI from 'openai';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { type BackgroundChat, pollUntilTerminal, waitForMockCall } from '../support/poll';
import { KEYS, type Stack, startStack, UPSTREAM_KEY } from '../support/stack';
import { sleep, waitFor } from '../support/wait';
import {
  type ReceivedHook,
  startWebhookReceiver,
  testWebhookSecret,
  type WebhookReceiver,
} from '../support/webhook-receiver';

const ADMIN = 'admin-token-for-tests-0123456789';
const GLOBAL_SECRET = testWebhookSecret();
let mock: MockUpstream;
let receiver: WebhookReceiver;
let stack: Stack;
let alice: OpenAI;

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  receiver = await startWebhookReceiver();
  receiver.setSecrets('/global', [GLOBAL_SECRET]);
  stack = await startStack({
    upstreamUrl: mock.url,
    env: {
      ADMIN_TOKEN: ADMIN,
      WEBHOOK_URL: `${receiver.url}/global`,
      WEBHOOK_SECRET: GLOBAL_SECRET,
      WEBHOOK_RETRY_BASE_MS: '200',
      WEBHOOK_TIMEOUT_MS: '2000',
    },
  });
  alice = stack.client(KEYS.alice);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  await mock?.close();
});

async function admin(method: string, path: string, body?: unknown, token = ADMIN) {
  const res = await fetch(`${stack.apiUrls[0]}/admin/webhooks${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** Waits until `n` verified deliveries of the call reached `path`, then a little longer to catch any extra one. */
async function hooksFor(id: string, path: string, n = 1, settleMs = 600): Promise<ReceivedHook[]> {
  await waitFor(
    `${n} webhook deliveries of ${id} at ${path}`,
    () => (receiver.eventsFor(id).filter((h) => h.path === path).length >= n ? true : undefined),
    15_000,
  );
  await sleep(settleMs);
  return receiver.eventsFor(id).filter((h) => h.path === path);
}

const background = (metadata: Record<string, string> = {}, extra: Record<string, unknown> = {}, client = alice) =>
  client.responses.create({ model: 'gpt-test', input: 'hello', background: true, metadata, ...extra });

describe('webhooks: events', () => {
  it('a background response sends one response.completed, signed as OpenAI signs it', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await background();
    const done = await pollUntilTerminal(alice, r.id);
    expect(done.status).toBe('completed');
    const [hook, ...more] = await hooksFor(r.id, '/global');
    expect(more).toEqual([]);
    expect(hook.event).toMatchObject({ object: 'event', type: 'response.completed', data: { id: r.id } });
    expect(hook.event!.id).toMatch(/^evt_[0-9a-f]+$/);
    expect(hook.webhookId).toMatch(/^wh_[0-9a-f]{32}$/);
    expect(hook.contentType).toBe('application/json');
    expect(hook.signatures).toHaveLength(1);
    expect(hook.signatures[0]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(hook.event!.created_at).toBeGreaterThanOrEqual(before);
    expect(hook.event!.created_at).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    // The thin payload, exactly: nothing of the response itself travels.
    expect(Object.keys(JSON.parse(hook.body) as object).sort()).toEqual(['created_at', 'data', 'id', 'object', 'type']);
  });

  it('a synchronous response sends nothing', async () => {
    const r = await alice.responses.create({ model: 'gpt-test', input: 'sync' });
    expect(r.status).toBe('completed');
    await sleep(1000);
    expect(receiver.eventsFor(r.id)).toEqual([]);
  });

  it('cancel during the call: one response.cancelled and nothing else', async () => {
    const key = `cancel-${Date.now()}`;
    const r = await background({ mock_key: key, mock_latency_ms: '1500' });
    await waitForMockCall(mock, key, 'running');
    expect((await alice.responses.cancel(r.id)).status).toBe('cancelled');
    await sleep(2000); // past the moment the upstream would have answered
    const hooks = await hooksFor(r.id, '/global');
    expect(hooks.map((h) => h.event!.type)).toEqual(['response.cancelled']);
  });

  it('cancels racing the upstream answer: each call sends exactly the event of the state it ended in', async () => {
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const r = await background({ mock_latency_ms: '400' });
        ids.push(r.id);
        await sleep(300 + i * 25); // around the moment the answer arrives
        await alice.responses.cancel(r.id).catch(() => undefined); // 400 once it completed
      }),
    );
    for (const id of ids) {
      const final = await pollUntilTerminal(alice, id);
      const hooks = await hooksFor(id, '/global', 1, 0);
      expect(hooks.map((h) => h.event!.type)).toEqual([`response.${final.status}`]);
    }
    await sleep(1000);
    for (const id of ids) expect(receiver.eventsFor(id)).toHaveLength(1);
  });

  it('a failing upstream sends response.failed', async () => {
    const r = await background({ mock_fail: '400' });
    expect((await pollUntilTerminal(alice, r.id)).status).toBe('failed');
    const hooks = await hooksFor(r.id, '/global');
    expect(hooks.map((h) => h.event!.type)).toEqual(['response.failed']);
  });

  it('max_output_tokens reached sends response.incomplete', async () => {
    const r = await background({ mock_tokens: '20' }, { max_output_tokens: 5 });
    const done = await pollUntilTerminal(alice, r.id);
    expect(done.status).toBe('incomplete');
    expect(done.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    const hooks = await hooksFor(r.id, '/global');
    expect(hooks.map((h) => h.event!.type)).toEqual(['response.incomplete']);
  });

  it('background chat jobs send chat.completion.completed and chat.completion.cancelled', async () => {
    const create = (metadata: Record<string, string>) =>
      alice.chat.completions.create({
        model: 'gpt-test',
        messages: [{ role: 'user', content: 'hi' }],
        background: true,
        metadata,
      } as OpenAI.ChatCompletionCreateParamsNonStreaming) as Promise<BackgroundChat>;
    const done = await create({});
    expect((await pollUntilTerminal(alice, done.id, { kind: 'chat' })).status).toBe('completed');
    const slow = await create({ mock_latency_ms: '3000' });
    const cancel = await fetch(`${stack.apiUrls[0]}/v1/chat/completions/${slow.id}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.alice}` },
    });
    expect(cancel.status).toBe(200);
    expect((await hooksFor(done.id, '/global')).map((h) => h.event!.type)).toEqual(['chat.completion.completed']);
    expect((await hooksFor(slow.id, '/global')).map((h) => h.event!.type)).toEqual(['chat.completion.cancelled']);
  });
});

describe('webhooks: delivery', () => {
  it('a receiver answering 500 twice then 200 gets the same event again, with the same webhook-id', async () => {
    receiver.answer(({ path, n }) => (path === '/global' && n <= 2 ? 500 : 200));
    try {
      const r = await background();
      const hooks = await hooksFor(r.id, '/global', 3);
      expect(hooks).toHaveLength(3);
      expect(hooks.map((h) => h.status)).toEqual([500, 500, 200]);
      expect(new Set(hooks.map((h) => h.webhookId)).size).toBe(1);
      expect(new Set(hooks.map((h) => h.event!.id)).size).toBe(1);
      expect(new Set(hooks.map((h) => h.body)).size).toBe(1);
      // Backoff: the retries were spaced out (base 200 ms, doubling, ±20%).
      expect(hooks[1].at - hooks[0].at).toBeGreaterThanOrEqual(150);
      expect(hooks[2].at - hooks[1].at).toBeGreaterThanOrEqual(300);
      const log = await waitFor('the delivery logged as delivered', async () => {
        const l = await admin('GET', '/global/deliveries');
        const d = (l.body.data as Record<string, unknown>[]).find((x) => x.data_id === r.id);
        return d?.status === 'delivered' ? d : undefined;
      });
      expect(log).toMatchObject({
        event_type: 'response.completed',
        webhook_id: hooks[0].webhookId,
        attempts: 3,
        last_http_status: 200,
        last_error: null,
        next_retry_at: null,
      });
    } finally {
      receiver.answer(() => 200);
    }
  });

  it('a redirect is not followed: it counts as a failure and is retried', async () => {
    receiver.answer(({ path, n }) => (path === '/global' && n === 1 ? 302 : 200));
    try {
      const r = await background();
      const hooks = await hooksFor(r.id, '/global', 2);
      expect(hooks.map((h) => h.status)).toEqual([302, 200]);
      expect(receiver.received().filter((h) => h.path === '/redirected')).toEqual([]);
    } finally {
      receiver.answer(() => 200);
    }
  });
});

describe('webhooks: per-user endpoints and the admin API', () => {
  it("per-user endpoints get only their user's events (and the global one gets every user's)", async () => {
    const a = await admin('POST', '', { user_id: 'alice', url: `${receiver.url}/alice` });
    const b = await admin('POST', '', { user_id: 'bob', url: `${receiver.url}/bob` });
    const failedOnly = await admin('POST', '', {
      user_id: 'alice',
      url: `${receiver.url}/alice-failed`,
      events: ['response.failed'],
    });
    for (const e of [a, b, failedOnly]) expect(e.status).toBe(200);
    expect(a.body).toMatchObject({ object: 'webhook_endpoint', user_id: 'alice', events: [], enabled: true });
    expect(a.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    receiver.setSecrets('/alice', [a.body.secret]);
    receiver.setSecrets('/bob', [b.body.secret]);
    receiver.setSecrets('/alice-failed', [failedOnly.body.secret]);
    try {
      const mine = await background();
      const bobs = await background({}, {}, stack.client(KEYS.bob));
      const failed = await background({ mock_fail: '400' });
      expect((await hooksFor(mine.id, '/alice')).map((h) => h.event!.type)).toEqual(['response.completed']);
      expect((await hooksFor(bobs.id, '/bob')).map((h) => h.event!.type)).toEqual(['response.completed']);
      expect((await hooksFor(failed.id, '/alice-failed')).map((h) => h.event!.type)).toEqual(['response.failed']);
      await hooksFor(bobs.id, '/global');
      await hooksFor(failed.id, '/alice');
      expect(
        receiver
          .eventsFor(mine.id)
          .map((h) => h.path)
          .sort(),
      ).toEqual(['/alice', '/global']);
      expect(
        receiver
          .eventsFor(bobs.id)
          .map((h) => h.path)
          .sort(),
      ).toEqual(['/bob', '/global']);
      expect(
        receiver
          .eventsFor(failed.id)
          .map((h) => h.path)
          .sort(),
      ).toEqual(['/alice', '/alice-failed', '/global']);
      // Every delivery to a user's endpoint verified with that endpoint's secret (and nothing unverified arrived).
      expect(receiver.received().filter((h) => h.event === null)).toEqual([]);

      const listed = await admin('GET', '?user_id=alice');
      expect(listed.body.data.map((e: { id: string }) => e.id).sort()).toEqual([a.body.id, failedOnly.body.id].sort());
      expect(JSON.stringify(listed.body)).not.toContain('whsec_');
      const log = await admin('GET', `/${a.body.id}/deliveries`);
      expect(log.body.data.map((d: { data_id: string }) => d.data_id)).toEqual(
        expect.arrayContaining([mine.id, failed.id]),
      );
      expect(JSON.stringify(log.body)).not.toContain('whsec_');
    } finally {
      for (const e of [a, b, failedOnly]) await admin('DELETE', `/${e.body.id}`);
    }
  });

  it('rotation: the new secret answers once, and both secrets sign during the grace period', async () => {
    const created = await admin('POST', '', { user_id: 'carol', url: `${receiver.url}/carol` });
    const oldSecret = created.body.secret as string;
    try {
      receiver.setSecrets('/carol', [oldSecret]);
      const carol = stack.client(KEYS.carol);
      const first = await background({}, {}, carol);
      const [before] = await hooksFor(first.id, '/carol');
      expect(before.signatures).toHaveLength(1);

      const rotated = await admin('POST', `/${created.body.id}`, { rotate_secret: true });
      expect(rotated.status).toBe(200);
      const newSecret = rotated.body.secret as string;
      expect(newSecret).toMatch(/^whsec_/);
      expect(newSecret).not.toBe(oldSecret);
      expect(rotated.body.previous_secret_expires_at).toBeGreaterThan(Date.now() / 1000);
      receiver.setSecrets('/carol', [oldSecret, newSecret]);
      const second = await background({}, {}, carol);
      const [after] = await hooksFor(second.id, '/carol');
      expect(after.signatures).toHaveLength(2);
      // unwrap accepts it with either secret alone.
      expect(after.verifiedWith).toEqual([0, 1]);
      expect(before.verifiedWith).toEqual([0]);
      const listed = await admin('GET', '?user_id=carol');
      expect(JSON.stringify(listed.body)).not.toContain('whsec_');
    } finally {
      await admin('DELETE', `/${created.body.id}`);
    }
  });

  it('validates input, hides secrets, answers 401 without the admin token, 404 after delete', async () => {
    expect((await admin('POST', '', { user_id: 'alice', url: 'ftp://example.com/x' })).status).toBe(400);
    const creds = await admin('POST', '', { user_id: 'alice', url: 'https://user:pw@example.com/x' });
    expect(creds.status).toBe(400);
    expect(creds.body.error).toMatchObject({ type: 'invalid_request_error', param: 'url' });
    expect(JSON.stringify(creds.body)).not.toContain('pw@');
    expect((await admin('POST', '', { user_id: 'alice', url: 'https://x.test', events: ['nope'] })).status).toBe(400);
    expect((await admin('POST', '', { url: 'https://x.test' })).status).toBe(400);
    expect((await admin('POST', '', { user_id: 'alice', url: 'https://x.test', secret: 'x' })).status).toBe(400);
    expect((await admin('GET', '', undefined, 'wrong-token-0123456789')).status).toBe(401);

    const e = await admin('POST', '', { user_id: 'alice', url: 'https://x.test/hook' });
    const disabled = await admin('POST', `/${e.body.id}`, { enabled: false, url: 'https://y.test/hook' });
    expect(disabled.body).toMatchObject({ enabled: false, url: 'https://y.test/hook' });
    expect(disabled.body.secret).toBeUndefined();
    expect((await admin('DELETE', `/${e.body.id}`)).body).toEqual({
      id: e.body.id,
      object: 'webhook_endpoint.deleted',
      deleted: true,
    });
    expect((await admin('POST', `/${e.body.id}`, { enabled: true })).status).toBe(404);
    expect((await admin('GET', `/${e.body.id}/deliveries`)).status).toBe(404);
  });
});
