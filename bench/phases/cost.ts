/**
 * 6. Cost per job: MongoDB and Redis round trips of our background jobs (and of a synchronous chat call) through
 * counting proxies, Redis INFO commandstats, against the floor's (cost-floor.ts).
 */
import { AUTH, C, log } from '../config';
import { Pool } from 'undici';
import { chatOnce, type Ctx, mockConfig, peerHeaders, postBackground, ZERO_MOCK } from '../context';
import * as L from '../lib';
import { startBenchStack } from '../stack';
import { measureFloorCost } from './cost-floor';
import { commandStats, MONITORING, openProxies, perJob } from './cost-proxies';

export async function phaseCost(ctx: Ctx) {
  log('6/6 cost per job: MongoDB and Redis round trips through counting proxies, Redis INFO commandstats');
  await mockConfig(ctx, ZERO_MOCK);
  const px = await openProxies(ctx);
  const { proxies, url, snap } = px;
  const st = await startBenchStack(ctx, {
    label: 'cost',
    workers: 1,
    concurrency: C.workerConcurrency,
    mongoApi: url(proxies.mongoApi, 'mongodb'),
    mongoWorker: url(proxies.mongoWorker, 'mongodb'),
    redisApi: url(proxies.redisApi, 'redis'),
    redisWorker: url(proxies.redisWorker, 'redis'),
  });
  const coll = ctx.mongo.db(st.db).collection('responses');
  // Completion is watched on a direct MongoDB connection, which no proxy counts.
  const allCompleted = (n: number) =>
    L.waitFor(
      `${n} completed responses`,
      async () => ((await coll.countDocuments({ status: 'completed' })) >= n ? true : undefined),
      120_000,
      100,
    );
  let background: Record<string, unknown>;
  let sync: Record<string, unknown>;
  try {
    await L.runLoad({
      concurrency: C.cost.concurrency,
      count: C.cost.warmup,
      op: () => postBackground(st.pool).then(() => undefined),
    });
    await allCompleted(C.cost.warmup);
    await L.sleep(500);
    const before = snap();
    const wire0 = { api: proxies.mongoApi.wireMs, worker: proxies.mongoWorker.wireMs };
    const cpu0 = { api: L.cpuMs(st.api.pid), worker: L.cpuMs(st.workers[0].pid) };
    await ctx.redis.config('RESETSTAT');
    const posted = await L.runLoad({
      concurrency: C.cost.concurrency,
      count: C.cost.jobs,
      op: () => postBackground(st.pool).then(() => undefined),
    });
    if (posted.errors) throw new Error(`POST errors: ${posted.firstError}`);
    await allCompleted(C.cost.warmup + C.cost.jobs);
    const stats = await commandStats(ctx.redis);
    const after = snap();
    const n = C.cost.jobs;
    const cpuBg = {
      apiMs: L.round((L.cpuMs(st.api.pid) - cpu0.api) / n, 3),
      workerMs: L.round((L.cpuMs(st.workers[0].pid) - cpu0.worker) / n, 3),
    };
    const wireBg = {
      apiMs: L.round((proxies.mongoApi.wireMs - wire0.api) / n, 2),
      workerMs: L.round((proxies.mongoWorker.wireMs - wire0.worker) / n, 2),
    };
    const d = {
      mongoApi: L.diffCounts(after.mongoApi, before.mongoApi),
      mongoWorker: L.diffCounts(after.mongoWorker, before.mongoWorker),
      redisApi: L.diffCounts(after.redisApi, before.redisApi),
      redisWorker: L.diffCounts(after.redisWorker, before.redisWorker),
    };
    const serverCmds = L.sumCounts(stats, (k) => k === 'info' || k.startsWith('config'));
    background = {
      jobs: n,
      cpuPerJob: { ...cpuBg, totalMs: L.round(cpuBg.apiMs + cpuBg.workerMs, 3) },
      mongoWireMsPerJob: wireBg,
      mongo: {
        apiPerJob: L.round(L.sumCounts(d.mongoApi, MONITORING) / n, 2),
        workerPerJob: L.round(L.sumCounts(d.mongoWorker, MONITORING) / n, 2),
        totalPerJob: L.round((L.sumCounts(d.mongoApi, MONITORING) + L.sumCounts(d.mongoWorker, MONITORING)) / n, 2),
        monitoringInWindow:
          L.sumCounts(d.mongoApi, (k) => !MONITORING(k)) + L.sumCounts(d.mongoWorker, (k) => !MONITORING(k)),
        apiByCommand: perJob(d.mongoApi, n),
        workerByCommand: perJob(d.mongoWorker, n),
      },
      redis: {
        apiRequestsPerJob: L.round(L.sumCounts(d.redisApi) / n, 2),
        workerRequestsPerJob: L.round(L.sumCounts(d.redisWorker) / n, 2),
        totalRequestsPerJob: L.round((L.sumCounts(d.redisApi) + L.sumCounts(d.redisWorker)) / n, 2),
        serverCommandsPerJob: L.round(serverCmds / n, 2),
        apiByCommand: perJob(d.redisApi, n),
        workerByCommand: perJob(d.redisWorker, n),
        serverByCommand: perJob(
          Object.fromEntries(Object.entries(stats).filter(([k]) => k !== 'info' && !k.startsWith('config'))),
          n,
        ),
      },
    };

    // A synchronous chat completion (store: false), for comparison. Its code is warmed up first, as the peer's is
    // (the peer has served the sync phase by now): the CPU figure is a warm process's, not the JIT's first compiles.
    const chats = async (count: number) => {
      const res = await L.runLoad({
        concurrency: 4,
        count,
        op: () => chatOnce({ name: 'ours', pool: st.pool, headers: AUTH }),
      });
      if (res.errors) throw new Error(`chat errors: ${res.firstError}`);
      await L.sleep(300);
    };
    await chats(C.cost.cpuWarmup);
    const s0 = snap();
    const sw0 = proxies.mongoApi.wireMs;
    const sc0 = { api: L.cpuMs(st.api.pid), worker: L.cpuMs(st.workers[0].pid) };
    await ctx.redis.config('RESETSTAT');
    await chats(C.cost.syncCalls);
    const s1 = snap();
    const m = C.cost.syncCalls;
    const syncStats = await commandStats(ctx.redis);
    const cpuSync = {
      apiMs: L.round((L.cpuMs(st.api.pid) - sc0.api) / m, 3),
      workerMs: L.round((L.cpuMs(st.workers[0].pid) - sc0.worker) / m, 3),
    };
    const ca = L.diffCounts(s1.mongoApi, s0.mongoApi);
    const cw = L.diffCounts(s1.mongoWorker, s0.mongoWorker);
    sync = {
      calls: m,
      cpuPerCall: { ...cpuSync, totalMs: L.round(cpuSync.apiMs + cpuSync.workerMs, 3) },
      // On the call's way: the api's MongoDB commands (the worker's tombstone comes after the answer).
      mongoApiPerCall: L.round(L.sumCounts(ca, MONITORING) / m, 2),
      mongoApiWireMsPerCall: L.round((proxies.mongoApi.wireMs - sw0) / m, 2),
      redisServerCommandsPerCall: L.round(L.sumCounts(syncStats, (k) => k === 'info' || k.startsWith('config')) / m, 2),
      mongoPerCall: L.round((L.sumCounts(ca, MONITORING) + L.sumCounts(cw, MONITORING)) / m, 2),
      mongoApiByCommand: perJob(ca, m),
      mongoWorkerByCommand: perJob(cw, m),
      redisRequestsPerCall: L.round(
        (L.sumCounts(L.diffCounts(s1.redisApi, s0.redisApi)) +
          L.sumCounts(L.diffCounts(s1.redisWorker, s0.redisWorker))) /
          m,
        2,
      ),
    };
  } finally {
    await st.stop();
  }

  // The peer's CPU per proxied call, over the same number of calls (the same request, the same concurrency).
  let peerCpu: { calls: number; msPerCall: number } | null = null;
  if (ctx.peerUrl && ctx.peerPid) {
    const pool = new Pool(ctx.peerUrl, { connections: 16 });
    try {
      const t = { name: 'peer' as const, pool, headers: peerHeaders(ctx) };
      await L.runLoad({ concurrency: 4, count: C.cost.cpuWarmup, op: () => chatOnce(t) });
      const p0 = L.cpuMs(ctx.peerPid);
      const res = await L.runLoad({ concurrency: 4, count: C.cost.syncCalls, op: () => chatOnce(t) });
      if (res.errors) throw new Error(`peer errors: ${res.firstError}`);
      peerCpu = { calls: C.cost.syncCalls, msPerCall: L.round((L.cpuMs(ctx.peerPid) - p0) / C.cost.syncCalls, 3) };
    } finally {
      await pool.close().catch(() => undefined);
    }
  }

  let floor: Record<string, unknown>;
  try {
    floor = await measureFloorCost(ctx, px, st.db);
  } finally {
    await px.close();
  }
  log(
    `   background job: MongoDB ${(background.mongo as { totalPerJob: number }).totalPerJob}/job, ` +
      `Redis ${(background.redis as { totalRequestsPerJob: number }).totalRequestsPerJob} requests/job`,
  );
  return { background, sync, floor, peerCpu } as {
    peerCpu: { calls: number; msPerCall: number } | null;
    background: {
      cpuPerJob: { apiMs: number; workerMs: number; totalMs: number };
      mongoWireMsPerJob: { apiMs: number; workerMs: number };
      mongo: {
        apiPerJob: number;
        workerPerJob: number;
        totalPerJob: number;
        apiByCommand: Record<string, number>;
        workerByCommand: Record<string, number>;
      };
      redis: {
        apiRequestsPerJob: number;
        workerRequestsPerJob: number;
        totalRequestsPerJob: number;
        serverCommandsPerJob: number;
      };
    };
    sync: {
      mongoPerCall: number;
      redisRequestsPerCall: number;
      cpuPerCall: { apiMs: number; workerMs: number; totalMs: number };
      mongoApiPerCall: number;
      mongoApiWireMsPerCall: number;
      redisServerCommandsPerCall: number;
    };
    floor: { mongoPerJob: number; redisRequestsPerJob: number; serverCommandsPerJob: number };
  };
}
