/**
 * A service several users share: key lifecycle (admin API and CLI), rate limits held in Redis
 * across two api processes, usage and cost sums, request limits.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { waitFor } from '../support/env';
import { pollUntilTerminal, waitForMockCall } from '../support/poll';
import { KEYS, type Stack, startStack, UPSTREAM_KEY } from '../support/stack';

const ADMIN = 'admin-token-for-tests-0123456789';
const run = promisify(execFile);
let mock: MockUpstream;

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
});
afterAll(async () => {
  await mock?.close();
});

async function admin(stack: Stack, method: string, path: string, body?: unknown, api = 0) {
  const res = await fetch(`${stack.apiUrls[api]}/admin/keys${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('API keys', () => {
  let stack: Stack;
  beforeAll(async () => {
    // A long cache TTL: revocation must reach the other replica through the bus, not by expiry.
    stack = await startStack({
      upstreamUrl: mock.url,
      apis: 2,
      env: { ADMIN_TOKEN: ADMIN, KEY_CACHE_TTL_MS: '600000' },
    });
  }, 60_000);
  afterAll(async () => stack?.stop());

  it('creates a key (secret shown once), uses it, lists it masked, and revokes it on every replica at once', async () => {
    const created = await admin(stack, 'POST', '', { user_id: 'dave', name: 'ci key', tier: 'premium' });
    expect(created.status).toBe(200);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^sk-djq-[0-9a-f]{48}$/);
    expect(created.body).toMatchObject({
      object: 'api_key',
      user_id: 'dave',
      name: 'ci key',
      enabled: true,
      limits: { rpm: 90, concurrency: null },
      revoked_at: null,
    });

    const dave0 = stack.client(secret, 0);
    const dave1 = stack.client(secret, 1);
    const r = await dave0.responses.create({ model: 'gpt-test', input: 'hello', background: true });
    expect((await dave1.responses.retrieve(r.id)).id).toBe(r.id); // cached on both replicas now
    await expect(stack.client(KEYS.alice).responses.retrieve(r.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);

    const listed = await admin(stack, 'GET', '?user_id=dave');
    expect(listed.body.data).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(listed.body.data[0].key).toBe(`${secret.slice(0, 10)}...${secret.slice(-4)}`);
    await waitFor('last_used_at', async () =>
      (await admin(stack, 'GET', '?user_id=dave')).body.data[0].last_used_at ? true : undefined,
    );

    const revoked = await admin(stack, 'DELETE', `/${created.body.id}`, undefined, 0);
    expect(revoked.body.revoked_at).toEqual(expect.any(Number));
    // Replica 1 had the key cached for 10 minutes; the bus notice drops it at once.
    const rejectedAt = await waitFor(
      'replica 1 to reject the revoked key',
      async () => {
        const err = await dave1.responses.retrieve(r.id).catch((e: unknown) => e);
        return err instanceof OpenAI.AuthenticationError ? Date.now() : undefined;
      },
      2000,
      20,
    );
    expect(rejectedAt).toBeGreaterThan(0);
    await expect(dave0.responses.retrieve(r.id)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    expect(stack.logs()).not.toContain(secret);
  });

  it('updates limits, and refuses bad input and a wrong admin token', async () => {
    const created = await admin(stack, 'POST', '', { user_id: 'erin' });
    const updated = await admin(stack, 'POST', `/${created.body.id}`, { rpm: 5, concurrency: 2, name: 'renamed' });
    expect(updated.body).toMatchObject({ name: 'renamed', limits: { rpm: 5, concurrency: 2 } });
    expect((await admin(stack, 'POST', '', { user_id: 'bad user!' })).status).toBe(400);
    expect((await admin(stack, 'POST', `/${created.body.id}`, { rpm: 0 })).body.error.param).toBe('rpm');
    expect((await admin(stack, 'POST', '', { user_id: 'x', secret: 'mine' })).body.error.param).toBe('secret');
    const wrong = await fetch(`${stack.apiUrls[0]}/admin/keys`, {
      headers: { authorization: 'Bearer not-the-admin-token' },
    });
    expect(wrong.status).toBe(401);
    const userKey = await fetch(`${stack.apiUrls[0]}/admin/keys`, {
      headers: { authorization: `Bearer ${KEYS.alice}` },
    });
    expect(userKey.status).toBe(401);
  });

  it('manages keys from the command line', async () => {
    const env = {
      ...process.env,
      MONGODB_URI: stack.env.MONGODB_URI,
      // The stack's Redis, a single one or a cluster (TEST_REDIS=cluster).
      ...(stack.env.REDIS_CLUSTER_NODES
        ? { REDIS_CLUSTER_NODES: stack.env.REDIS_CLUSTER_NODES }
        : { REDIS_URL: stack.env.REDIS_URL }),
      QUEUE_PREFIX: stack.env.QUEUE_PREFIX,
    };
    const cli = (...args: string[]) =>
      run(process.execPath, [join(__dirname, '..', '..', 'dist', 'cli', 'keys-cli.js'), ...args], {
        env,
        timeout: 20_000,
      });
    const created = JSON.parse((await cli('create', '--user', 'frank', '--tier', 'regular')).stdout) as {
      id: string;
      secret: string;
      limits: { rpm: number };
    };
    expect(created.limits.rpm).toBe(12);
    const frank = stack.client(created.secret, 1);
    await frank.responses.create({ model: 'gpt-test', input: 'hi', background: true });
    const listed = JSON.parse((await cli('list', '--user', 'frank')).stdout) as { id: string; key: string }[];
    expect(listed.map((k) => k.id)).toEqual([created.id]);
    expect(listed[0].key).not.toBe(created.secret);
    await cli('revoke', created.id);
    await waitFor(
      'the CLI revocation to reach the api',
      async () => {
        const err = await frank.responses
          .create({ model: 'gpt-test', input: 'hi', background: true })
          .catch((e: unknown) => e);
        return err instanceof OpenAI.AuthenticationError ? true : undefined;
      },
      2000,
      20,
    );
    const bad = await cli('create').catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toContain('user_id');
  });
});

describe('rate limits across api replicas', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      upstreamUrl: mock.url,
      apis: 2,
      env: { RATE_LIMIT_RPM: '6', RATE_LIMIT_CONCURRENCY: '3' },
    });
  }, 60_000);
  afterAll(async () => stack?.stop());

  it('counts requests per minute for a key on both replicas together, with 429 and Retry-After', async () => {
    const bob = [stack.client(KEYS.bob, 0), stack.client(KEYS.bob, 1)];
    const accepted = [];
    for (let i = 0; i < 6; i++)
      accepted.push(
        await bob[i % 2].chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: `n${i}` }] }),
      );
    expect(accepted).toHaveLength(6);
    const res = await fetch(`${stack.apiUrls[1]}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.bob}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'one too many' }] }),
    });
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await res.json()).toEqual({
      error: {
        message: expect.stringContaining('requests per minute'),
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    });
    // Another key is not affected, and reads are not model calls.
    await expect(
      stack
        .client(KEYS.carol, 1)
        .chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }),
    ).resolves.toBeDefined();
  });

  it('limits calls in flight, never drops an accepted background job, and frees slots as jobs end', async () => {
    const alice = [stack.client(KEYS.alice, 0), stack.client(KEYS.alice, 1)];
    const slow = await Promise.all(
      [0, 1, 2].map((i) =>
        alice[i % 2].responses.create({
          model: 'gpt-test',
          input: `slow ${i}`,
          background: true,
          metadata: { mock_latency_ms: '1500' },
        }),
      ),
    );
    const err = (await alice[1].responses
      .create({ model: 'gpt-test', input: 'fourth', background: true })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.code).toBe('rate_limit_exceeded');
    expect(err.message).toContain('in flight');
    // Cancelling one frees its slot at once.
    await alice[0].responses.cancel(slow[0].id);
    const fourth = await alice[1].responses.create({ model: 'gpt-test', input: 'fourth', background: true });
    const finished = await Promise.all(
      [slow[1], slow[2], fourth].map(async (r) => (await pollUntilTerminal(alice[0], r.id)).status),
    );
    expect(finished).toEqual(['completed', 'completed', 'completed']);
  });
});

describe('usage and cost', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      upstreamUrl: mock.url,
      env: { ADMIN_TOKEN: ADMIN, PRICE_TABLE: JSON.stringify({ 'model-a': { input: 1_000_000, output: 3_000_000 } }) },
    });
  }, 60_000);
  afterAll(async () => stack?.stop());

  it('sums finished calls by day and model, deleted and unstored ones included', async () => {
    const secret = (await admin(stack, 'POST', '', { user_id: 'grace' })).body.secret as string;
    const grace = stack.client(secret);
    // Known token counts: input = words of the prompt, output = mock_tokens.
    await grace.responses.create({ model: 'model-a', input: 'one two three', metadata: { mock_tokens: '4' } });
    const deleted = await grace.responses.create({
      model: 'model-a',
      input: 'one two',
      metadata: { mock_tokens: '6' },
    });
    await grace.responses.delete(deleted.id);
    await grace.responses.create({ model: 'model-a', input: 'one', store: false, metadata: { mock_tokens: '2' } });
    await grace.chat.completions.create({
      model: 'model-a',
      messages: [{ role: 'user', content: 'five words are here now' }],
      metadata: { mock_tokens: '3' },
    });
    await grace.chat.completions.create({
      model: 'model-b',
      store: true,
      messages: [{ role: 'user', content: 'hi' }],
      metadata: { mock_tokens: '10' },
    });
    const failed = await grace.responses.create({
      model: 'model-a',
      input: 'x',
      background: true,
      metadata: { mock_fail: '400' },
    });
    await waitFor('the failure', async () =>
      (await grace.responses.retrieve(failed.id)).status === 'failed' ? true : undefined,
    );

    const usage = (await grace.get('/usage')) as {
      data: Record<string, unknown>[];
      total: Record<string, number>;
      start_date: string;
      end_date: string;
    };
    const today = new Date().toISOString().slice(0, 10);
    expect(usage.end_date).toBe(today);
    expect(usage.data).toEqual([
      // model-a: 3+2+1+5 input, 4+6+2+3 output; 1 coin per input token, 3 per output token
      {
        date: today,
        model: 'model-a',
        requests: 4,
        input_tokens: 11,
        output_tokens: 15,
        total_tokens: 26,
        cost_coins: 11 + 45,
      },
      {
        date: today,
        model: 'model-b',
        requests: 1,
        input_tokens: 1,
        output_tokens: 10,
        total_tokens: 11,
        cost_coins: 0,
      },
    ]);
    expect(usage.total).toEqual({ requests: 5, input_tokens: 12, output_tokens: 25, total_tokens: 37, cost_coins: 56 });
    // Another user sees none of it.
    expect(((await stack.client(KEYS.bob).get('/usage')) as { data: unknown[] }).data).toEqual([]);
    const bad = (await grace
      .get('/usage', { query: { start_date: '2026-13-01' } })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(bad.param).toBe('start_date');
  });
});

describe('request limits', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ upstreamUrl: mock.url, env: { BODY_LIMIT_BYTES: '2048', SYNC_TIMEOUT_MS: '1500' } });
  }, 60_000);
  afterAll(async () => stack?.stop());

  it('answers oversized bodies, overlong ids and keys with clear 4xx in the envelope', async () => {
    const base = stack.apiUrls[0];
    const auth = { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' };
    const big = await fetch(`${base}/v1/responses`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ model: 'm', input: 'x'.repeat(4000) }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({
      error: {
        message: 'The request body is too large.',
        type: 'invalid_request_error',
        param: null,
        code: 'request_too_large',
      },
    });
    const longId = await fetch(`${base}/v1/responses/resp_${'a'.repeat(300)}`, { headers: auth });
    expect(longId.status).toBe(404);
    const longKey = await fetch(`${base}/v1/responses/resp_x`, {
      headers: { authorization: `Bearer ${'k'.repeat(5000)}` },
    });
    expect(longKey.status).toBe(401);
    expect(((await longKey.json()) as { error: { message: string } }).error.message).not.toContain('k'.repeat(20));
  });

  it('answers a synchronous call that outlives SYNC_TIMEOUT_MS with a 504, cancels it and aborts the upstream call', async () => {
    const key = `sync-timeout-${Date.now()}`;
    const started = Date.now();
    const err = (await stack
      .client(KEYS.alice)
      .chat.completions.create({
        model: 'gpt-test',
        messages: [{ role: 'user', content: 'slow' }],
        metadata: { mock_key: key, mock_latency_ms: '30000' },
      })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(504);
    expect(err.code).toBe('timeout');
    expect(err.message).toContain('did not finish within 2 seconds');
    expect(Date.now() - started).toBeLessThan(5000);
    await waitForMockCall(mock, key, 'aborted', 5000);
  });
});
