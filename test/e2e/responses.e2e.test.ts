/**
 * End to end: built api (two replicas) and worker as separate processes, real Redis and
 * MongoDB wire server, our MOCK upstream, driven by the official `openai` SDK.
 */
import OpenAI from 'openai';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { uniqueName } from '../support/env';
import { pollUntilTerminal, waitForMockCall } from '../support/poll';
import { KEYS, type Stack, startStack, UPSTREAM_KEY } from '../support/stack';

let mock: MockUpstream;
let stack: Stack;
let alice: OpenAI;
let bob: OpenAI;

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  stack = await startStack({ upstreamUrl: mock.url, apis: 2, workers: 1 });
  alice = stack.client(KEYS.alice);
  bob = stack.client(KEYS.bob);
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await mock?.close();
});

const callsFor = (key: string) => mock.calls().filter((c) => c.key === key);

describe('background responses', () => {
  it('answers queued at once, then completes with output, usage and completed_at', async () => {
    const key = uniqueName('bg-');
    const { data: created, response } = await alice.responses
      .create({
        model: 'gpt-test',
        input: 'Say hello',
        background: true,
        metadata: { mock_key: key, topic: 'greeting' },
      })
      .withResponse();
    expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(created.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(created.object).toBe('response');
    expect(created.status).toBe('queued');
    expect(created.background).toBe(true);
    expect(created.output).toEqual([]);
    expect(created.usage).toBeNull();
    expect(created.completed_at).toBeNull();
    expect(created.metadata).toEqual({ mock_key: key, topic: 'greeting' });
    expect(Math.abs(created.created_at - Date.now() / 1000)).toBeLessThan(60);

    const done = await pollUntilTerminal(alice, created.id);
    expect(done.status).toBe('completed');
    expect(done.output_text).toBe('Mock token1 token2 token3 token4 token5 token6 token7');
    expect(done.usage).toMatchObject({ input_tokens: 2, output_tokens: 8, total_tokens: 10 });
    expect(done.completed_at).toBeGreaterThanOrEqual(created.created_at);
    expect(done.model).toBe('gpt-test-mock');
    expect(done.error).toBeNull();
    // The upstream got our configured key, once, with the request's own fields.
    const calls = callsFor(key);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ authorized: true, outcome: 'ok', model: 'gpt-test' });
  });

  it('cancels a running response from another api replica, aborting the upstream call', async () => {
    const key = uniqueName('cancel-');
    const created = await alice.responses.create({
      model: 'gpt-test',
      input: 'A long story',
      background: true,
      metadata: { mock_key: key, mock_latency_ms: '30000' },
    });
    await waitForMockCall(mock, key, 'running');
    const viaOtherReplica = stack.client(KEYS.alice, 1);
    const cancelled = await viaOtherReplica.responses.cancel(created.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.id).toBe(created.id);
    const aborted = await waitForMockCall(mock, key, 'aborted', 5000);
    expect(aborted.endedAt! - aborted.startedAt).toBeLessThan(10_000);
    // Cancelling again is idempotent, and the status sticks.
    expect((await alice.responses.cancel(created.id)).status).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 300));
    expect((await alice.responses.retrieve(created.id)).status).toBe('cancelled');
    expect(callsFor(key)).toHaveLength(1);
  });

  it('cancels a queued response before any worker runs it', async () => {
    // Fill the worker (concurrency 8) with slow jobs so the next one stays queued.
    const blockers = await Promise.all(
      Array.from({ length: 8 }, () =>
        alice.responses.create({
          model: 'gpt-test',
          input: 'block',
          background: true,
          metadata: { mock_latency_ms: '3000' },
        }),
      ),
    );
    const key = uniqueName('queued-');
    const created = await alice.responses.create({
      model: 'gpt-test',
      input: 'waiting',
      background: true,
      metadata: { mock_key: key },
    });
    const cancelled = await alice.responses.cancel(created.id);
    expect(cancelled.status).toBe('cancelled');
    await Promise.all(blockers.map((b) => pollUntilTerminal(alice, b.id)));
    expect((await alice.responses.retrieve(created.id)).status).toBe('cancelled');
    expect(callsFor(key)).toHaveLength(0);
  });

  it("refuses to cancel a finished response, with OpenAI's message", async () => {
    const created = await alice.responses.create({ model: 'gpt-test', input: 'quick', background: true });
    await pollUntilTerminal(alice, created.id);
    const err = await alice.responses.cancel(created.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toBe(
      '400 Cannot cancel a completed response.',
    );
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).type).toBe('invalid_request_error');
  });

  it('retries transient upstream failures with backoff and then completes', async () => {
    const key = uniqueName('flaky-');
    const created = await alice.responses.create({
      model: 'gpt-test',
      input: 'flaky',
      background: true,
      metadata: { mock_key: key, mock_fail: '503', mock_fail_times: '2' },
    });
    const done = await pollUntilTerminal(alice, created.id);
    expect(done.status).toBe('completed');
    expect(callsFor(key).map((c) => c.status)).toEqual([503, 503, 200]);
  });

  it('honours Retry-After on 429', async () => {
    const key = uniqueName('ratelimited-');
    const created = await alice.responses.create({
      model: 'gpt-test',
      input: 'limited',
      background: true,
      metadata: { mock_key: key, mock_fail: '429', mock_fail_times: '1', mock_retry_after: '1' },
    });
    expect((await pollUntilTerminal(alice, created.id)).status).toBe('completed');
    const [first, second] = callsFor(key);
    expect(first.status).toBe(429);
    expect(second.startedAt - first.endedAt!).toBeGreaterThanOrEqual(950);
  });

  it('ends in failed with a clear error after the retries run out', async () => {
    const key = uniqueName('broken-');
    const created = await alice.responses.create({
      model: 'gpt-test',
      input: 'broken',
      background: true,
      metadata: { mock_key: key, mock_fail: '500' },
    });
    const done = await pollUntilTerminal(alice, created.id);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('server_error');
    expect(done.error?.message).toContain('after 3 attempts');
    expect(done.completed_at).toBeNull();
    expect(callsFor(key)).toHaveLength(3); // JOB_ATTEMPTS=3
  });

  it('does not retry an upstream 400', async () => {
    const key = uniqueName('bad-');
    const created = await alice.responses.create({
      model: 'gpt-test',
      input: 'bad',
      background: true,
      metadata: { mock_key: key, mock_fail: '400' },
    });
    const done = await pollUntilTerminal(alice, created.id);
    expect(done.status).toBe('failed');
    expect(done.error).toEqual({ code: 'invalid_value', message: 'mock upstream: injected 400' });
    expect(callsFor(key)).toHaveLength(1);
  });
});

describe('synchronous responses', () => {
  it('runs through the queue and answers with the finished response', async () => {
    const key = uniqueName('sync-');
    const r = await alice.responses.create({
      model: 'gpt-test',
      input: [{ role: 'user', content: 'hi there' }],
      metadata: { mock_key: key },
    });
    expect(r.status).toBe('completed');
    expect(r.background).toBe(false);
    expect(r.output_text).toContain('Mock');
    expect(callsFor(key)).toHaveLength(1);
    expect((await alice.responses.retrieve(r.id)).status).toBe('completed');
    const err = await alice.responses.cancel(r.id).catch((e: unknown) => e);
    expect((err as Error).message).toBe('400 Cannot cancel a synchronous response.');
  });

  it('does not keep a response created with store: false', async () => {
    const r = await alice.responses.create({ model: 'gpt-test', input: 'ephemeral', store: false });
    expect(r.status).toBe('completed');
    await expect(alice.responses.retrieve(r.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('passes an upstream 4xx through to the caller without a retry', async () => {
    const key = uniqueName('sync400-');
    const err = await alice.responses
      .create({ model: 'gpt-test', input: 'x', metadata: { mock_key: key, mock_fail: '400' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as Error).message).toBe('400 mock upstream: injected 400');
    expect(callsFor(key)).toHaveLength(1);
  });

  it('cancels the job and aborts the upstream call when the client goes away', async () => {
    const key = uniqueName('gone-');
    const controller = new AbortController();
    const pending = alice.responses
      .create(
        { model: 'gpt-test', input: 'slow', metadata: { mock_key: key, mock_latency_ms: '30000' } },
        { signal: controller.signal },
      )
      .catch((e: unknown) => e);
    await waitForMockCall(mock, key, 'running');
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    await waitForMockCall(mock, key, 'aborted', 5000);
  });
});

describe('delete and input items', () => {
  it('deletes a response; afterwards get, cancel and input_items answer 404', async () => {
    const created = await alice.responses.create({ model: 'gpt-test', input: 'to delete', background: true });
    await pollUntilTerminal(alice, created.id);
    const res = await alice.delete(`/responses/${created.id}`);
    expect(res).toEqual({ id: created.id, object: 'response', deleted: true });
    await expect(alice.responses.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(alice.responses.cancel(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(alice.responses.inputItems.list(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(alice.responses.delete(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('deleting a running response cancels it and aborts the upstream call', async () => {
    const key = uniqueName('del-running-');
    const created = await alice.responses.create({
      model: 'gpt-test',
      input: 'slow',
      background: true,
      metadata: { mock_key: key, mock_latency_ms: '30000' },
    });
    await waitForMockCall(mock, key, 'running');
    await alice.responses.delete(created.id);
    await waitForMockCall(mock, key, 'aborted', 5000);
    await expect(alice.responses.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('lists a string input as one user message with one input_text part', async () => {
    const created = await alice.responses.create({ model: 'gpt-test', input: 'Tell me a story', background: true });
    const page = await alice.responses.inputItems.list(created.id);
    expect(page.data).toHaveLength(1);
    expect(page.data[0]).toMatchObject({
      type: 'message',
      role: 'user',
      content: [{ type: 'input_text', text: 'Tell me a story' }],
    });
    expect(page.data[0].id).toMatch(/^msg_/);
    const raw = await alice.get(`/responses/${created.id}/input_items`);
    expect(raw).toEqual({
      object: 'list',
      data: page.data,
      first_id: page.data[0].id,
      last_id: page.data[0].id,
      has_more: false,
    });
  });

  it('pages input items in both orders, and the SDK auto-pagination visits each once', async () => {
    const input = Array.from({ length: 7 }, (_, i) => ({ role: 'user' as const, content: `message ${i}` }));
    const created = await alice.responses.create({ model: 'gpt-test', input, background: true });
    const desc = await alice.responses.inputItems.list(created.id, { limit: 3 });
    expect(desc.data.map((i) => (i as { content: { text: string }[] }).content[0].text)).toEqual([
      'message 6',
      'message 5',
      'message 4',
    ]);
    expect(desc.has_more).toBe(true);
    const seen: string[] = [];
    for await (const item of alice.responses.inputItems.list(created.id, { limit: 2, order: 'asc' })) {
      seen.push((item as { content: { text: string }[] }).content[0].text);
    }
    expect(seen).toEqual(input.map((m) => m.content));
    const err = await alice.responses.inputItems.list(created.id, { limit: 101 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('limit');
  });
});

describe('isolation between users', () => {
  it("answers 404 for another user's response and leaves it untouched", async () => {
    const key = uniqueName('iso-');
    const created = await alice.responses.create({
      model: 'gpt-test',
      input: 'private',
      background: true,
      metadata: { mock_key: key, mock_latency_ms: '1500' },
    });
    await expect(bob.responses.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(bob.responses.cancel(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(bob.responses.delete(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(bob.responses.inputItems.list(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const done = await pollUntilTerminal(alice, created.id);
    expect(done.status).toBe('completed');
    expect(callsFor(key)).toHaveLength(1);
  });
});

describe("errors in OpenAI's envelope", () => {
  it('rejects a missing or wrong key with 401', async () => {
    const anon = stack.client('sk-nobody-at-all');
    const err = await anon.responses.retrieve('resp_x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
    const res = await fetch(`${stack.apiUrls[0]}/v1/responses/resp_x`);
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    expect(await res.json()).toEqual({
      error: { message: expect.stringContaining('API key'), type: 'invalid_request_error', param: null, code: null },
    });
  });

  it('names the bad parameter in a 400', async () => {
    const missing = (await alice.responses.create({ input: 'x' } as never).catch((e: unknown) => e)) as InstanceType<
      typeof OpenAI.BadRequestError
    >;
    expect(missing).toBeInstanceOf(OpenAI.BadRequestError);
    expect(missing.param).toBe('model');
    const metadata = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    const tooMany = (await alice.responses
      .create({ model: 'm', input: 'x', metadata })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(tooMany.status).toBe(400);
    expect(tooMany.param).toBe('metadata');
    const longValue = (await alice.responses
      .create({ model: 'm', input: 'x', metadata: { a: 'x'.repeat(513) } })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(longValue.param).toBe('metadata.a');
    const wrongType = (await alice.responses
      .create({ model: 'm', input: 'x', background: 'yes' } as never)
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(wrongType.param).toBe('background');
  });

  it('answers malformed JSON, unknown routes and unknown ids in the envelope', async () => {
    const base = stack.apiUrls[0];
    const auth = { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' };
    const bad = await fetch(`${base}/v1/responses`, { method: 'POST', headers: auth, body: '{"model": "x", ' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: unknown }).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_json',
    });
    const nothing = await fetch(`${base}/v1/nothing-here`, { headers: auth });
    expect(nothing.status).toBe(404);
    expect(((await nothing.json()) as { error: { message: string } }).error.message).toBe(
      'Invalid URL (GET /v1/nothing-here)',
    );
    const unknown = await fetch(`${base}/v1/responses/resp_doesnotexist`, { headers: auth });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      error: {
        message: "Response with id 'resp_doesnotexist' not found.",
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
    const array = await fetch(`${base}/v1/responses`, { method: 'POST', headers: auth, body: '[1,2]' });
    expect(array.status).toBe(400);
  });
});
