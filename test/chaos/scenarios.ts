/**
 * Fault-injection scenarios against real processes: api and workers as separate processes, our
 * own redis-server (append-only file) or Redis Cluster, a MongoDB wire server, the MOCK upstream. Each returns
 * figures; the jest suite asserts on them at CI size, `npm run chaos` prints them larger.
 */
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import type OpenAI from 'openai';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { msUntilExit, sleep, waitFor } from '../support/wait';
import { isTerminal, terminalStatuses, waitForMockCalls } from '../support/poll';
import { clusterProc, ferretProc, redisProc, type ServiceProc } from '../support/processes';
import { KEYS, type Stack, startStack, UPSTREAM_KEY } from '../support/stack';
import { startWebhookReceiver, testWebhookSecret } from '../support/webhook-receiver';

export interface ScenarioResult {
  name: string;
  accepted: number;
  completed: number;
  failed: number;
  cancelled: number;
  lost: number;
  /** Terminal transitions beyond one per call (counted on the records themselves). */
  duplicateWrites: number;
  /** Upstream calls per job, at most. */
  maxUpstreamCalls: number;
  recoveryMs: number | null;
  /** Webhook scenarios: deliveries answered 2xx beyond one per event (each with the event's own webhook-id). */
  duplicateDeliveries?: number;
  notes: string[];
}

export interface ChaosEnv {
  mongoUri: string;
}

const FAST_RECOVERY = { WORKER_LOCK_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000', LOG_LEVEL: 'info' };

/** Polls every second: polling reads compete with the workers for the (serialized, in tests) MongoDB wire server. */
const finalStatuses = (client: OpenAI, ids: string[], timeoutMs: number) =>
  terminalStatuses(client, ids, timeoutMs, 1000);

/**
 * How many terminal transitions each call's record took: the repository counts them on the record itself
 * (`terminalWrites`, incremented by the same conditional update that writes the final state), so this is the
 * invariant, not a reading of log text.
 */
async function terminalWrites(stack: Stack, ids: string[]): Promise<Map<string, number>> {
  const mongo = await MongoClient.connect(stack.env.MONGODB_URI);
  try {
    const docs = await mongo
      .db()
      .collection('responses')
      .find({ responseId: { $in: ids } }, { projection: { responseId: 1, terminalWrites: 1 } })
      .toArray();
    return new Map(docs.map((d) => [String(d.responseId), Number(d.terminalWrites ?? 0)]));
  } finally {
    await mongo.close();
  }
}

async function summarize(
  name: string,
  stack: Stack,
  mock: MockUpstream,
  ids: string[],
  statuses: Map<string, string>,
  recoveryMs: number | null,
  notes: string[],
): Promise<ScenarioResult> {
  const count = (s: string) => ids.filter((id) => statuses.get(id) === s).length;
  const writes = await terminalWrites(stack, ids);
  const calls = new Map<string, number>();
  for (const c of mock.calls()) calls.set(c.key, (calls.get(c.key) ?? 0) + 1);
  return {
    name,
    accepted: ids.length,
    completed: count('completed'),
    failed: count('failed'),
    cancelled: count('cancelled'),
    lost: ids.filter((id) => !isTerminal(statuses.get(id))).length,
    duplicateWrites: ids.reduce((n, id) => n + Math.max(0, (writes.get(id) ?? 0) - 1), 0),
    maxUpstreamCalls: Math.max(0, ...ids.map((id) => calls.get(id) ?? 0)),
    recoveryMs,
    notes,
  };
}

/** Background jobs whose mock key is their own response id, so upstream calls count per job. */
async function submit(client: OpenAI, n: number, metadata: (i: number) => Record<string, string>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const tag = `job-${i}-${Math.random().toString(36).slice(2, 8)}`;
    const r = await client.responses.create({
      model: 'gpt-chaos',
      input: tag,
      background: true,
      metadata: { mock_key: tag, ...metadata(i) },
    });
    ids.push(r.id);
    keyOfJob.set(r.id, tag);
  }
  return ids;
}
const keyOfJob = new Map<string, string>();

/** Mock calls counted per response id (through the job's mock key). */
function callsById(mock: MockUpstream): Map<string, number> {
  const byKey = new Map<string, number>();
  for (const c of mock.calls()) byKey.set(c.key, (byKey.get(c.key) ?? 0) + 1);
  const out = new Map<string, number>();
  for (const [id, key] of keyOfJob) out.set(id, byKey.get(key) ?? 0);
  return out;
}

function withCalls(result: ScenarioResult, mock: MockUpstream, ids: string[]): ScenarioResult {
  const calls = callsById(mock);
  return { ...result, maxUpstreamCalls: Math.max(0, ...ids.map((id) => calls.get(id) ?? 0)) };
}

async function withWorld<T>(
  env: ChaosEnv,
  opts: { redis?: boolean; ferret?: boolean },
  body: (w: {
    mock: MockUpstream;
    redis: ServiceProc | null;
    ferret: ServiceProc | null;
    mongoUri: string;
  }) => Promise<T>,
): Promise<T> {
  const mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  const redis = opts.redis ? await redisProc() : null;
  const ferret = opts.ferret ? await ferretProc() : null;
  try {
    return await body({ mock, redis, ferret, mongoUri: ferret?.url ?? env.mongoUri });
  } finally {
    await mock.close();
    await redis?.stop();
    await ferret?.stop();
  }
}

/** 1. kill -9 a worker holding in-flight jobs; the other worker takes them over. */
export async function killWorker(env: ChaosEnv, n: number, concurrency: number): Promise<ScenarioResult> {
  return withWorld(env, { redis: true }, async ({ mock, redis, mongoUri }) => {
    const stack = await startStack({
      upstreamUrl: mock.url,
      redisUrl: redis!.url,
      mongoUri,
      workers: 2,
      env: { ...FAST_RECOVERY, WORKER_CONCURRENCY: String(concurrency) },
    });
    try {
      const client = stack.client(KEYS.alice);
      // Kill while jobs are in flight: watch the mock during the submission itself.
      const submitting = submit(client, n, (i) => ({ mock_latency_ms: String(1500 + (i % 7) * 200) }));
      await waitForMockCalls(mock, 'running', Math.min(concurrency, 10), 30_000);
      const inFlight = mock.calls().filter((c) => c.outcome === 'running').length;
      const killedAt = Date.now();
      stack.killWorker(0);
      const ids = await submitting;
      const statuses = await finalStatuses(client, ids, 90_000);
      const recoveryMs = Date.now() - killedAt;
      const interrupted = mock.calls().filter((c) => c.outcome === 'aborted').length;
      return withCalls(
        await summarize('kill -9 a worker', stack, mock, ids, statuses, recoveryMs, [
          `${inFlight} calls in flight at the kill, ${interrupted} of them cut and re-run; ` +
            `lock ${FAST_RECOVERY.WORKER_LOCK_MS} ms, stall check ${FAST_RECOVERY.WORKER_STALLED_INTERVAL_MS} ms`,
        ]),
        mock,
        ids,
      );
    } finally {
      await stack.stop();
    }
  });
}

/** Calls the api while a store is away: every answer must be a quick 503 in the envelope. */
async function probeOutage(
  stack: Stack,
  probes: number,
): Promise<{ statuses: number[]; slowestMs: number; envelopes: boolean }> {
  const statuses: number[] = [];
  let slowestMs = 0;
  let envelopes = true;
  for (let i = 0; i < probes; i++) {
    const t = Date.now();
    const res = await fetch(`${stack.apiUrls[0]}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-chaos', input: 'during outage', background: true }),
      signal: AbortSignal.timeout(15_000),
    });
    slowestMs = Math.max(slowestMs, Date.now() - t);
    statuses.push(res.status);
    const body = (await res.json()) as { error?: { type?: string; code?: string } };
    if (res.status === 503 && body.error?.code !== 'service_unavailable') envelopes = false;
    await sleep(100);
  }
  return { statuses, slowestMs, envelopes };
}

async function firstSuccess(stack: Stack, since: number): Promise<number> {
  await waitFor(
    'the api to accept again',
    async () => {
      const res = await fetch(`${stack.apiUrls[0]}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-chaos', input: 'after outage', background: true }),
      }).catch(() => null);
      return res?.status === 200 ? true : undefined;
    },
    60_000,
    100,
  );
  return Date.now() - since;
}

/** 2. Restart Redis mid-run (kill -9; AOF fsync always). */
export async function restartRedis(
  env: ChaosEnv,
  n: number,
): Promise<ScenarioResult & { outage: Awaited<ReturnType<typeof probeOutage>>; spareExitMs: number }> {
  return withWorld(env, { redis: true }, async ({ mock, redis, mongoUri }) => {
    const stack = await startStack({
      upstreamUrl: mock.url,
      redisUrl: redis!.url,
      mongoUri,
      workers: 1,
      env: { ...FAST_RECOVERY, WORKER_CONCURRENCY: '10' },
    });
    try {
      const client = stack.client(KEYS.alice);
      const ids = await submit(client, n, () => ({ mock_latency_ms: '700' }));
      const spare = await stack.addWorker({ WORKER_SHUTDOWN_GRACE_MS: '1000' });
      await redis!.kill('SIGKILL');
      const outage = await probeOutage(stack, 5);
      // A worker told to stop while Redis is away must still exit (within grace + the hard margin).
      const spareExited = msUntilExit(spare, 20_000);
      spare.kill('SIGTERM');
      const spareExitMs = await spareExited;
      const restartedAt = Date.now();
      await redis!.start();
      const recoveryMs = await firstSuccess(stack, restartedAt);
      ids.push(...(await submit(client, Math.ceil(n / 2), () => ({}))));
      const statuses = await finalStatuses(client, ids, 90_000);
      const r = await summarize('restart Redis', stack, mock, ids, statuses, recoveryMs, [
        `while Redis was away: ${outage.statuses.join(',')} (slowest ${outage.slowestMs} ms); ` +
          `a worker sent SIGTERM meanwhile exited after ${spareExitMs} ms`,
      ]);
      return { ...withCalls(r, mock, ids), outage, spareExitMs };
    } finally {
      await stack.stop();
    }
  });
}

/** 3. Restart the MongoDB wire server mid-run (kill -9, same data folder). */
export async function restartMongo(
  env: ChaosEnv,
  n: number,
): Promise<ScenarioResult & { outage: Awaited<ReturnType<typeof probeOutage>> }> {
  return withWorld(env, { redis: true, ferret: true }, async ({ mock, redis, ferret, mongoUri }) => {
    const stack = await startStack({
      upstreamUrl: mock.url,
      redisUrl: redis!.url,
      mongoUri,
      workers: 1,
      // One slot more than the calls: WORKER_RESERVED_SLOTS keeps one slot from any single key (issue 13).
      env: { ...FAST_RECOVERY, WORKER_CONCURRENCY: String(n + 1) },
    });
    try {
      const client = stack.client(KEYS.alice);
      // Long calls: all are in flight when MongoDB goes, and finish while it is away.
      const ids = await submit(client, n, () => ({ mock_latency_ms: '5000' }));
      await waitForMockCalls(mock, 'running', n, 30_000);
      await ferret!.kill('SIGKILL');
      const outage = await probeOutage(stack, 4);
      const restartedAt = Date.now();
      await ferret!.start();
      const recoveryMs = await firstSuccess(stack, restartedAt);
      const statuses = await finalStatuses(client, ids, 90_000);
      const r = await summarize('restart MongoDB', stack, mock, ids, statuses, recoveryMs, [
        `while MongoDB was away: ${outage.statuses.join(',')} (slowest ${outage.slowestMs} ms); ` +
          'results finished meanwhile were kept and written after',
      ]);
      return { ...withCalls(r, mock, ids), outage };
    } finally {
      await stack.stop();
    }
  });
}

/** 4. Upstream faults: each transient kind once (then success), and each kind for good. */
export async function upstreamFaults(
  env: ChaosEnv,
): Promise<ScenarioResult & { byMode: Record<string, { transient: string; permanent: string; error: string }> }> {
  return withWorld(env, { redis: true }, async ({ mock, redis, mongoUri }) => {
    const stack = await startStack({
      upstreamUrl: mock.url,
      redisUrl: redis!.url,
      mongoUri,
      env: { ...FAST_RECOVERY, UPSTREAM_TIMEOUT_MS: '1500', JOB_ATTEMPTS: '3', RETRY_BASE_MS: '100' },
    });
    try {
      const client = stack.client(KEYS.alice);
      const modes = ['429', '500', '502', '503', 'reset', 'hang', 'badjson'];
      const started = Date.now();
      const pairs = await Promise.all(
        modes.map(async (mode) => {
          const extra: Record<string, string> = mode === '429' ? { mock_retry_after: '1' } : {};
          const [transient] = await submit(client, 1, () => ({ mock_fail: mode, mock_fail_times: '1', ...extra }));
          const [permanent] = await submit(client, 1, () => ({ mock_fail: mode, ...extra }));
          return { mode, transient, permanent };
        }),
      );
      const [slow] = await submit(client, 1, () => ({ mock_latency_ms: '900' }));
      const cut = await client.responses.create({
        model: 'gpt-chaos',
        input: 'cut',
        background: true,
        stream: true,
        metadata: { mock_fail: 'midstream', mock_tokens: '10' },
      });
      let cutId = '';
      for await (const e of cut) if (e.type === 'response.created') cutId = e.response.id;
      const ids = [...pairs.flatMap((p) => [p.transient, p.permanent]), slow, cutId];
      const statuses = await finalStatuses(client, ids, 60_000);
      const byMode: Record<string, { transient: string; permanent: string; error: string }> = {};
      for (const p of pairs) {
        const failed = await client.responses.retrieve(p.permanent);
        byMode[p.mode] = {
          transient: statuses.get(p.transient) ?? '?',
          permanent: statuses.get(p.permanent) ?? '?',
          error: failed.error?.message ?? '',
        };
      }
      byMode['slow headers (900 ms < 1500 ms timeout)'] = {
        transient: statuses.get(slow) ?? '?',
        permanent: '-',
        error: '',
      };
      byMode['stream cut after output'] = {
        transient: '-',
        permanent: statuses.get(cutId) ?? '?',
        error: (await client.responses.retrieve(cutId)).error?.message ?? '',
      };
      const r = await summarize('upstream faults', stack, mock, ids, statuses, Date.now() - started, [
        'every job terminal; time is until the last one',
      ]);
      return { ...withCalls(r, mock, ids), byMode };
    } finally {
      await stack.stop();
    }
  });
}

/** 5. SIGTERM: a worker hands long jobs back after its grace period; the api drains. */
export async function gracefulShutdown(
  env: ChaosEnv,
): Promise<ScenarioResult & { workerExitMs: number; apiExitMs: number; drainedSync: boolean; drainedStream: boolean }> {
  return withWorld(env, { redis: true }, async ({ mock, redis, mongoUri }) => {
    const stack = await startStack({
      upstreamUrl: mock.url,
      redisUrl: redis!.url,
      mongoUri,
      apis: 2,
      env: {
        ...FAST_RECOVERY,
        WORKER_CONCURRENCY: '10',
        WORKER_SHUTDOWN_GRACE_MS: '1000',
        API_SHUTDOWN_GRACE_MS: '8000',
      },
    });
    try {
      const client = stack.client(KEYS.alice, 1);
      const long = await submit(client, 3, () => ({ mock_latency_ms: '4000' }));
      const short = await submit(client, 2, () => ({ mock_latency_ms: '300' }));
      await waitForMockCalls(mock, 'running', 5, 10_000);
      const exited = msUntilExit(stack.workers[0], 30_000);
      stack.workers[0].kill('SIGTERM');
      const workerExitMs = await exited;
      await stack.addWorker();

      // The api: an open synchronous call and an open stream, then SIGTERM.
      const api0 = stack.client(KEYS.alice, 0);
      const sync = api0.responses.create({
        model: 'gpt-chaos',
        input: 'sync during drain',
        metadata: { mock_latency_ms: '1500' },
      });
      const stream = await api0.responses.create({
        model: 'gpt-chaos',
        input: 'stream during drain',
        stream: true,
        background: true,
        metadata: { mock_tokens: '20', mock_token_delay_ms: '100' },
      });
      await sleep(300);
      const apiExited = msUntilExit(stack.apis[0], 30_000);
      stack.apis[0].kill('SIGTERM');
      let drainedStream = false;
      for await (const e of stream) if (e.type === 'response.completed') drainedStream = true;
      const drainedSync = (await sync.catch(() => null))?.status === 'completed';
      const apiExitMs = await apiExited;

      const ids = [...long, ...short];
      const statuses = await finalStatuses(client, ids, 30_000);
      const r = await summarize('graceful shutdown', stack, mock, ids, statuses, workerExitMs, [
        `worker exited ${workerExitMs} ms after SIGTERM (grace 1000 ms), ${long.length} long jobs handed back`,
        `api exited ${apiExitMs} ms after SIGTERM with its open call and stream finished`,
      ]);
      return { ...withCalls(r, mock, ids), workerExitMs, apiExitMs, drainedSync, drainedStream };
    } finally {
      await stack.stop();
    }
  });
}

/** 6. Cancel races: jobs cancelled at random moments. */
export async function cancelRaces(
  env: ChaosEnv,
  n: number,
): Promise<
  ScenarioResult & { mismatches: number; lateResultsDropped: number; abortedUpstream: number; notAborted: number }
> {
  return withWorld(env, { redis: true }, async ({ mock, redis, mongoUri }) => {
    const stack = await startStack({
      upstreamUrl: mock.url,
      redisUrl: redis!.url,
      mongoUri,
      apis: 2,
      workers: 2,
      env: { ...FAST_RECOVERY, WORKER_CONCURRENCY: '20' },
    });
    try {
      // The SDK's own retries cover connection resets under this load (two cores, every process).
      const clients = [stack.client(KEYS.alice, 0, { maxRetries: 2 }), stack.client(KEYS.alice, 1, { maxRetries: 2 })];
      const answered = new Map<string, { status: string; at: number }>();
      const ids: string[] = [];
      let next = 0;
      const lanes = 20;
      await Promise.all(
        Array.from({ length: lanes }, async () => {
          for (let i = next++; i < n; i = next++) await race(i);
        }),
      );
      async function race(i: number): Promise<void> {
        const tag = `race-${i}-${Math.random().toString(36).slice(2, 8)}`;
        const r = await clients[i % 2].responses.create({
          model: 'gpt-chaos',
          input: tag,
          background: true,
          metadata: { mock_key: tag, mock_latency_ms: String(Math.floor(Math.random() * 600)) },
        });
        keyOfJob.set(r.id, tag);
        ids.push(r.id);
        await sleep(Math.floor(Math.random() * 700));
        const c = await clients[(i + 1) % 2].responses.cancel(r.id).catch((e: { message?: string }) => ({
          status: /Cannot cancel a (\w+)/.exec(e.message ?? '')?.[1] ?? 'error',
        }));
        // Once the cancel is answered, the flag is set: an upstream call still running must be aborted.
        answered.set(r.id, { status: c.status ?? 'error', at: Date.now() });
      }
      const statuses = await finalStatuses(clients[0], ids, 60_000);
      await sleep(1500); // a late result would land here
      const again = await finalStatuses(clients[0], ids, 10_000);
      const mismatches = ids.filter(
        (id) => answered.get(id)!.status !== again.get(id) || statuses.get(id) !== again.get(id),
      ).length;
      const byKey = new Map(mock.calls().map((c) => [c.key, c]));
      let lateResultsDropped = 0;
      let abortedUpstream = 0;
      let notAborted = 0;
      for (const id of ids) {
        if (again.get(id) !== 'cancelled') continue;
        const call = byKey.get(keyOfJob.get(id)!);
        if (!call) continue; // cancelled while queued: never called
        if (call.outcome === 'aborted') abortedUpstream++;
        else if (call.outcome === 'ok' && call.endedAt! <= answered.get(id)!.at) lateResultsDropped++;
        else notAborted++;
      }
      const r = await summarize('cancel races', stack, mock, ids, again, null, [
        `${abortedUpstream} running calls aborted upstream, ` +
          `${lateResultsDropped} results that arrived as the cancel landed were dropped, ` +
          `${notAborted} running calls not aborted`,
      ]);
      return { ...withCalls(r, mock, ids), mismatches, lateResultsDropped, abortedUpstream, notAborted };
    } finally {
      await stack.stop();
    }
  });
}

/** 7. Redis loses all its data (a crash inside its fsync window, a flush, a bad failover). */
export async function redisDataLoss(env: ChaosEnv, n: number): Promise<ScenarioResult> {
  return withWorld(env, { redis: true }, async ({ mock, redis, mongoUri }) => {
    const stack = await startStack({
      upstreamUrl: mock.url,
      redisUrl: redis!.url,
      mongoUri,
      workers: 0,
      env: { ...FAST_RECOVERY, SWEEP_INTERVAL_MS: '500', SWEEP_AGE_MS: '1000' },
    });
    try {
      const client = stack.client(KEYS.alice);
      const ids = await submit(client, n, () => ({}));
      const admin = new Redis(redis!.url);
      await admin.flushall();
      admin.disconnect();
      const lostAt = Date.now();
      await stack.addWorker();
      const statuses = await finalStatuses(client, ids, 60_000);
      return withCalls(
        await summarize('Redis loses its data', stack, mock, ids, statuses, Date.now() - lostAt, [
          'every queued job re-enqueued from MongoDB by the recovery sweep (interval 500 ms, age 1 s)',
        ]),
        mock,
        ids,
      );
    } finally {
      await stack.stop();
    }
  });
}

/**
 * 8. Webhook deliveries under faults: a worker killed (kill -9) while calls run, then Redis killed and restarted,
 * and a receiver that refuses each event's first two attempts (500). Every call's event must arrive (lost: 0);
 * a duplicate is allowed only with the same webhook-id and event id (counted, and checked).
 */
export async function webhookFaults(
  env: ChaosEnv,
  n: number,
): Promise<ScenarioResult & { unverified: number; mixedIds: number; wrongType: number; eventsLost: number }> {
  return withWorld(env, { redis: true }, async ({ mock, redis, mongoUri }) => {
    const receiver = await startWebhookReceiver();
    const secret = testWebhookSecret();
    receiver.setSecrets('/hook', [secret]);
    let refuseAll = false;
    receiver.answer(({ n: attempt }) => (refuseAll || attempt <= 2 ? 500 : 200));
    const stack = await startStack({
      upstreamUrl: mock.url,
      redisUrl: redis!.url,
      mongoUri,
      workers: 2,
      env: {
        ...FAST_RECOVERY,
        WORKER_CONCURRENCY: '10',
        WEBHOOK_URL: `${receiver.url}/hook`,
        WEBHOOK_SECRET: secret,
        WEBHOOK_RETRY_BASE_MS: '300',
        SWEEP_INTERVAL_MS: '500',
        SWEEP_AGE_MS: '3000',
      },
    });
    try {
      const client = stack.client(KEYS.alice, 0, { maxRetries: 2 });
      // Kill while calls run: watch the mock during the submission itself.
      const submitting = submit(client, n, (i) => ({ mock_latency_ms: String(1500 + (i % 5) * 300) }));
      await waitForMockCalls(mock, 'running', Math.min(n, 3), 30_000);
      const faultAt = Date.now();
      stack.killWorker(0);
      const ids = await submitting;
      // Some calls finish and their first attempts fail while Redis is away.
      await sleep(1200);
      await redis!.kill('SIGKILL');
      await sleep(1500);
      await redis!.start();
      const statuses = await finalStatuses(client, ids, 90_000);
      const delivered = (id: string) => receiver.eventsFor(id).filter((h) => h.status === 200);
      // Then Redis loses all its data while deliveries wait for their retry: the sweep re-enqueues them from MongoDB.
      refuseAll = true;
      const late = await submit(client, Math.ceil(n / 2), () => ({}));
      await waitFor(
        'a first attempt of every late event',
        () => (late.every((id) => receiver.eventsFor(id).length > 0) ? true : undefined),
        60_000,
        100,
      );
      const admin = new Redis(redis!.url);
      await admin.flushall();
      admin.disconnect();
      refuseAll = false;
      ids.push(...late);
      for (const [id, status] of await finalStatuses(client, late, 30_000)) statuses.set(id, status);
      await waitFor(
        'every call to have its event delivered',
        () => (ids.every((id) => !isTerminal(statuses.get(id)) || delivered(id).length > 0) ? true : undefined),
        90_000,
        200,
      ).catch(() => undefined); // counted below as lost
      const recoveryMs = Date.now() - faultAt;
      await sleep(3000); // a late duplicate would land here
      let eventsLost = 0;
      let duplicates = 0;
      let mixedIds = 0;
      let wrongType = 0;
      for (const id of ids) {
        const all = receiver.eventsFor(id);
        const ok = all.filter((h) => h.status === 200);
        if (ok.length === 0) eventsLost++;
        duplicates += Math.max(0, ok.length - 1);
        if (new Set(all.map((h) => h.webhookId)).size > 1 || new Set(all.map((h) => h.event!.id)).size > 1) mixedIds++;
        if (all.some((h) => h.event!.type !== `response.${statuses.get(id)}`)) wrongType++;
      }
      const unverified = receiver.received().filter((h) => h.event === null).length;
      const r = await summarize('webhooks: kill -9, Redis restart, data loss', stack, mock, ids, statuses, recoveryMs, [
        `${n} background calls; a worker killed while they ran, then Redis killed and restarted; the receiver ` +
          `answered 500 to each event's first 2 attempts; then ${late.length} more whose retries Redis lost ` +
          `(FLUSHALL), re-enqueued by the sweep from the delivery log. Events lost: ${eventsLost}; deliveries 2xx beyond one per ` +
          `event: ${duplicates} (events with more than one webhook-id or event id: ${mixedIds}); ` +
          `${receiver.received().length} attempts received, ${unverified} failing the SDK's unwrap`,
      ]);
      return {
        ...withCalls(r, mock, ids),
        lost: r.lost + eventsLost,
        duplicateDeliveries: duplicates,
        unverified,
        mixedIds,
        wrongType,
        eventsLost,
      };
    } finally {
      await stack.stop();
      await receiver.close();
    }
  });
}

/** The master of a cluster that serves a key's slot (by its port), asked of any node. */
async function masterPortOf(nodes: string, key: string): Promise<number> {
  const [host, port] = nodes.split(',')[0].split(':');
  const admin = new Redis(Number(port), host, { maxRetriesPerRequest: 1 });
  try {
    const slot = Number(await admin.cluster('KEYSLOT', key));
    const ranges = await admin.cluster('SLOTS');
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no master serves slot ${slot}`);
    return Number(range[2][1]);
  } finally {
    admin.disconnect();
  }
}

/**
 * 9. A Redis Cluster master restarts mid-run (kill -9, same port and nodes.conf, AOF fsync always; no replicas, so its
 * slots are away until it is back): the master of the queues' slot, the hardest case, since every job is there.
 */
export async function restartClusterMaster(
  env: ChaosEnv,
  n: number,
): Promise<ScenarioResult & { outage: Awaited<ReturnType<typeof probeOutage>>; workerExitMs: number }> {
  const cluster = await clusterProc({ durable: true });
  try {
    return await withWorld(env, {}, async ({ mock, mongoUri }) => {
      const stack = await startStack({
        upstreamUrl: mock.url,
        redisClusterNodes: cluster.nodes,
        mongoUri,
        workers: 1,
        env: { ...FAST_RECOVERY, WORKER_CONCURRENCY: '10', WORKER_SHUTDOWN_GRACE_MS: '1000' },
      });
      try {
        const client = stack.client(KEYS.alice);
        const ids = await submit(client, n, () => ({ mock_latency_ms: '700' }));
        const port = await masterPortOf(cluster.nodes, `{${stack.prefix}}`);
        const master = cluster.masters[cluster.ports.indexOf(port)];
        await master.kill('SIGKILL');
        const outage = await probeOutage(stack, 4);
        const restartedAt = Date.now();
        await master.start();
        await cluster.waitOk();
        const recoveryMs = await firstSuccess(stack, restartedAt);
        ids.push(...(await submit(client, Math.ceil(n / 2), () => ({}))));
        const statuses = await finalStatuses(client, ids, 90_000);
        // A worker told to stop after the master came back must still exit by itself, before the hard stop.
        const exited = msUntilExit(stack.workers[0], 30_000);
        stack.workers[0].kill('SIGTERM');
        const workerExitMs = await exited;
        const r = await summarize('restart a Redis Cluster master', stack, mock, ids, statuses, recoveryMs, [
          `the master of the queues' slot (port ${port}) away: ${outage.statuses.join(',')} ` +
            `(slowest ${outage.slowestMs} ms); the worker exited ${workerExitMs} ms after SIGTERM once it was back`,
        ]);
        return { ...withCalls(r, mock, ids), outage, workerExitMs };
      } finally {
        await stack.stop();
      }
    });
  } finally {
    await cluster.stop();
  }
}
