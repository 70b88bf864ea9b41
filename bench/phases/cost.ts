/**
 * 6. Cost per job: MongoDB and Redis round trips of our background jobs (and of a synchronous chat call) through
 * counting proxies, Redis INFO commandstats, against the floor's (cost-floor.ts).
 */
import { AUTH, C, log } from '../config';
import { chatOnce, type Ctx, mockConfig, postBackground, ZERO_MOCK } from '../context';
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
    const d = {
      mongoApi: L.diffCounts(after.mongoApi, before.mongoApi),
      mongoWorker: L.diffCounts(after.mongoWorker, before.mongoWorker),
      redisApi: L.diffCounts(after.redisApi, before.redisApi),
      redisWorker: L.diffCounts(after.redisWorker, before.redisWorker),
    };
    const serverCmds = L.sumCounts(stats, (k) => k === 'info' || k.startsWith('config'));
    background = {
      jobs: n,
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

    // A synchronous chat completion (store: false), for comparison.
    const s0 = snap();
    const chat = await L.runLoad({
      concurrency: 4,
      count: C.cost.syncCalls,
      op: () => chatOnce({ name: 'ours', pool: st.pool, headers: AUTH }),
    });
    if (chat.errors) throw new Error(`chat errors: ${chat.firstError}`);
    await L.sleep(300);
    const s1 = snap();
    const m = C.cost.syncCalls;
    const ca = L.diffCounts(s1.mongoApi, s0.mongoApi);
    const cw = L.diffCounts(s1.mongoWorker, s0.mongoWorker);
    sync = {
      calls: m,
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
  return { background, sync, floor } as {
    background: {
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
    sync: { mongoPerCall: number; redisRequestsPerCall: number };
    floor: { mongoPerJob: number; redisRequestsPerJob: number; serverCommandsPerJob: number };
  };
}
