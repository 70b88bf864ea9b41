/**
 * Issue 15: operating the service. Metrics on the api and on the worker's operations port (and the token rule), one
 * access line per request with the request id (and the same id on the worker's lines for that call), readiness that
 * follows the worker's heartbeat while liveness stays up, the queue depth gauge, rate-limit headers, the OpenAPI
 * document and the dashboard's auth.
 */
import { readFileSync } from 'node:fs';
import type OpenAI from 'openai';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { sampleSum, scrape } from '../support/metrics';
import { pollUntilTerminal } from '../support/poll';
import { KEYS, type Stack, startStack, stopProcess, UPSTREAM_KEY } from '../support/stack';
import { waitFor } from '../support/wait';

const ADMIN_TOKEN = 'admin-token-ops-0123456789';
const METRICS_TOKEN = 'metrics-token-ops-0123456789';

let mock: MockUpstream;
let stack: Stack;
let alice: OpenAI;

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  stack = await startStack({
    upstreamUrl: mock.url,
    env: { ADMIN_TOKEN, METRICS_TOKEN, WORKER_HEARTBEAT_S: '1' },
    readyTimeoutMs: 60_000, // a loaded machine starts processes slowly
  });
  alice = stack.client(KEYS.alice);
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await mock?.close();
});

const api = () => stack.apiUrls[0];
const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${api()}${path}`, { headers, signal: AbortSignal.timeout(5000) });
const ready = async (url: string) => {
  const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(5000) });
  return {
    status: res.status,
    body: (await res.json()) as { status: string; checks: Record<string, { status: string }> },
  };
};
const linesOf = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('metrics', () => {
  it('api and worker: open to METRICS_TOKEN and ADMIN_TOKEN only', async () => {
    for (const url of [api(), stack.workerUrls[0]]) {
      expect((await scrape(url)).status).toBe(401);
      expect((await scrape(url, 'not-the-token-at-all-0000')).status).toBe(401);
      const byMetrics = await scrape(url, METRICS_TOKEN);
      expect(byMetrics.status).toBe(200);
      expect(byMetrics.text).toContain('# TYPE process_cpu_seconds_total counter');
      expect((await scrape(url, ADMIN_TOKEN)).status).toBe(200);
    }
  });

  it('a background call counts as accepted on the api and finished on the worker', async () => {
    const labels = { kind: 'response', background: 'true' };
    const before = await scrape(api(), METRICS_TOKEN);
    const finishedBefore = await scrape(stack.workerUrls[0], METRICS_TOKEN);
    const accepted0 = sampleSum(before.text, 'calls_accepted_total', labels) || 0;
    const done = { kind: 'response', status: 'completed' };
    const finished0 = sampleSum(finishedBefore.text, 'calls_finished_total', done) || 0;
    const created = await alice.responses.create({ model: 'gpt-4o-mini', input: 'count me', background: true });
    await pollUntilTerminal(alice, created.id);
    const after = await scrape(api(), METRICS_TOKEN);
    expect(sampleSum(after.text, 'calls_accepted_total', labels)).toBe(accepted0 + 1);
    expect(
      sampleSum(after.text, 'http_requests_total', { method: 'POST', route: '/v1/responses', status: '200' }),
    ).toBeGreaterThanOrEqual(1);
    const worker = await scrape(stack.workerUrls[0], METRICS_TOKEN);
    expect(sampleSum(worker.text, 'calls_finished_total', done)).toBe(finished0 + 1);
    expect(
      sampleSum(worker.text, 'upstream_request_duration_seconds_count', { route: 'default', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sampleSum(worker.text, 'upstream_time_to_first_byte_seconds_count', { route: 'default' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleSum(worker.text, 'event_log_bytes_total')).toBeGreaterThan(0);
  });
});

describe('access log', () => {
  it('one line per request with its request id and key id (never the key); the worker logs the same id', async () => {
    const { data, response } = await alice.responses
      .create({ model: 'gpt-4o-mini', input: 'log me', background: true })
      .withResponse();
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^req_/);
    await pollUntilTerminal(alice, data.id);
    const access = await waitFor('the access line', () => {
      const found = linesOf(stack.apiLogFiles[0]).filter((l) => l.requestId === requestId && l.route);
      return found.length > 0 ? found : undefined;
    });
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ method: 'POST', route: '/v1/responses', status: 200 });
    expect(typeof access[0].durationMs).toBe('number');
    expect(access[0].keyId).toEqual(expect.any(String));
    const workerLines = await waitFor('the worker lines of the call', () => {
      const found = linesOf(stack.workerLogFiles[0]).filter((l) => l.requestId === requestId);
      return found.some((l) => String(l.msg).includes('finished')) ? found : undefined;
    });
    expect(workerLines.every((l) => l.id === undefined || l.id === data.id)).toBe(true);
    expect(stack.logText()).not.toContain(KEYS.alice);
    // A failed request is logged too, with its status.
    const missing = await get('/v1/responses/resp_nope', { authorization: `Bearer ${KEYS.alice}` });
    const missingId = missing.headers.get('x-request-id');
    const line = await waitFor('the 404 line', () =>
      linesOf(stack.apiLogFiles[0]).find((l) => l.requestId === missingId && l.route),
    );
    expect(line).toMatchObject({ method: 'GET', route: '/v1/responses/:id', status: 404 });
  });
});

describe('rate-limit headers', () => {
  it('a call that counts against the limits answers them; remaining goes down', async () => {
    const one = await alice.responses.create({ model: 'gpt-4o-mini', input: 'a', background: true }).withResponse();
    const two = await alice.responses.create({ model: 'gpt-4o-mini', input: 'b', background: true }).withResponse();
    const h1 = one.response.headers;
    const h2 = two.response.headers;
    expect(h1.get('x-ratelimit-limit-requests')).toBe('100000');
    expect(Number(h2.get('x-ratelimit-remaining-requests'))).toBe(Number(h1.get('x-ratelimit-remaining-requests')) - 1);
    expect(h2.get('x-ratelimit-reset-requests')).toMatch(/^(\d+ms|\d+s|\d+m\d+s)$/);
    // A read does not count against them.
    const read = await get(`/v1/responses/${one.data.id}`, { authorization: `Bearer ${KEYS.alice}` });
    expect(read.headers.get('x-ratelimit-remaining-requests')).toBeNull();
  });
});

describe('API description and dashboard auth', () => {
  it('/openapi.json describes our own endpoints from the request schemas; /docs renders it', async () => {
    const doc = (await (await get('/openapi.json')).json()) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    for (const path of ['/admin/keys', '/v1/usage', '/v1/chat/completions/{id}/cancel', '/health/ready'])
      expect(doc.paths).toHaveProperty([path]);
    expect(Object.keys(doc.components.schemas.NewKey.properties ?? {})).toEqual(
      expect.arrayContaining(['user_id', 'rpm', 'concurrency']),
    );
    const page = await get('/docs');
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/admin/keys');
  });

  it('/admin/queues wants ADMIN_TOKEN, as Bearer or as the basic-auth password', async () => {
    const none = await get('/admin/queues');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect((await get('/admin/queues', { authorization: `Bearer ${METRICS_TOKEN}` })).status).toBe(401);
    expect((await get('/admin/queues', { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(200);
    const basic = `Basic ${Buffer.from(`ops:${ADMIN_TOKEN}`).toString('base64')}`;
    expect((await get('/admin/queues', { authorization: basic })).status).toBe(200);
  });
});

describe('health', () => {
  it('ready follows the worker heartbeat (a queued job shows in the depth gauge meanwhile); live stays up', async () => {
    expect(await ready(api())).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await ready(stack.workerUrls[0])).toMatchObject({ status: 200 });
    expect((await fetch(`${stack.workerUrls[0]}/health/live`)).status).toBe(200);

    await stopProcess(stack.workers[0], 10_000);
    const down = await waitFor(
      'ready to fail without a worker',
      async () => {
        const r = await ready(api());
        return r.status === 503 ? r : undefined;
      },
      10_000,
      200,
    );
    expect(down.body.checks).toMatchObject({
      redis: { status: 'ok' },
      mongodb: { status: 'ok' },
      worker: { status: 'failed' },
    });
    expect((await get('/health/live')).status).toBe(200);
    expect((await get('/health')).status).toBe(503);

    const queued = await alice.responses.create({ model: 'gpt-4o-mini', input: 'wait for me', background: true });
    const depth = await scrape(api(), METRICS_TOKEN);
    expect(
      sampleSum(depth.text, 'queue_jobs', { queue: 'calls-default', state: 'prioritized' }),
    ).toBeGreaterThanOrEqual(1);

    await stack.addWorker();
    const last = stack.workerUrls.length - 1;
    await waitFor('ready again', async () => ((await ready(api())).status === 200 ? true : undefined), 10_000, 200);
    expect(await ready(stack.workerUrls[last])).toMatchObject({ status: 200 });
    expect((await pollUntilTerminal(alice, queued.id)).status).toBe('completed');
  });
});
