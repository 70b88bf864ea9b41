/**
 * 2. End to end: background jobs per second from the first POST until BullMQ's completed set holds them all (capped),
 * with 1 and 2 workers, against bare BullMQ: queue.add and a no-op processor in as many worker processes.
 */
import { C, log, rand } from '../config';
import {
  completedBy,
  type Ctx,
  jobOptions,
  mockConfig,
  openQueue,
  postBackground,
  startFloorWorker,
  waitCompleted,
  ZERO_MOCK,
} from '../context';
import * as L from '../lib';
import { startBenchStack } from '../stack';

export async function phaseE2E(ctx: Ctx) {
  log('2/6 end to end: background jobs POST -> completed, 1 and 2 workers, vs bare BullMQ add + no-op process');
  await mockConfig(ctx, ZERO_MOCK);
  const out: Record<string, unknown> = {};
  const dbs: string[] = [];
  for (const n of C.e2e.workers) {
    // Floor: bare BullMQ, no-op processor, as many worker processes, the same concurrency.
    const prefix = `bfloor-e2e-${rand()}`;
    const floorWorkers: L.Launched[] = [];
    const { queue, close: closeQueue } = openQueue(prefix, ctx.redisUrl);
    let floor: Record<string, number>;
    try {
      for (let i = 0; i < n; i++)
        floorWorkers.push(
          await startFloorWorker(ctx, `floor-worker${i}`, ctx.redisUrl, prefix, `floor-e2e${n}-worker${i}.log`),
        );
      const add = (i: number) =>
        queue
          .add('run-response', { responseId: `f${i}`, userId: C.userId, requestId: 'x' }, jobOptions(`f${i}`))
          .then(() => undefined);
      await L.runLoad({ concurrency: C.e2e.concurrency, count: C.e2e.warmup, op: (i) => add(i) });
      await waitCompleted(ctx, prefix, C.e2e.warmup, 30_000);
      const start = L.now();
      const done = waitCompleted(ctx, prefix, C.e2e.warmup + C.e2e.floorJobs, 120_000);
      const posted = await L.runLoad({
        concurrency: C.e2e.concurrency,
        count: C.e2e.floorJobs,
        op: (i) => add(C.e2e.warmup + i),
      });
      const end = await done;
      if (posted.errors) throw new Error(`floor add errors: ${posted.firstError}`);
      floor = {
        jobs: C.e2e.floorJobs,
        seconds: L.round((end - start) / 1000),
        jobsPerSec: L.round(C.e2e.floorJobs / ((end - start) / 1000), 1),
      };
    } finally {
      await closeQueue();
      await Promise.all(floorWorkers.map((w) => L.stopProcess(w.child)));
    }

    const st = await startBenchStack(ctx, { label: `e2e${n}`, workers: n, concurrency: C.workerConcurrency });
    let ours: Record<string, number>;
    try {
      await L.runLoad({
        concurrency: C.e2e.concurrency,
        count: C.e2e.warmup,
        op: () => postBackground(st.pool).then(() => undefined),
      });
      await waitCompleted(ctx, st.prefix, C.e2e.warmup, 60_000);
      const start = L.now();
      const done = completedBy(ctx, st.prefix, C.e2e.warmup, C.e2e.jobs, start + C.e2e.capMs);
      const posted = await L.runLoad({
        concurrency: C.e2e.concurrency,
        count: C.e2e.jobs,
        op: () => postBackground(st.pool).then(() => undefined),
      });
      const postedAt = L.now();
      const { count, at } = await done;
      if (posted.errors) throw new Error(`POST errors: ${posted.firstError}`);
      const completed = await ctx.mongo.db(st.db).collection('responses').countDocuments({ status: 'completed' });
      if (completed < C.e2e.warmup + count)
        throw new Error(`BullMQ completed ${C.e2e.warmup + count} jobs but MongoDB has ${completed} completed records`);
      ours = {
        jobs: count,
        posted: C.e2e.jobs,
        partial: count < C.e2e.jobs ? 1 : 0,
        seconds: L.round((at - start) / 1000),
        jobsPerSec: L.round(count / ((at - start) / 1000), 1),
        postPhasePerSec: L.round(C.e2e.jobs / ((postedAt - start) / 1000), 1),
      };
      dbs.push(st.db);
    } finally {
      await st.stop();
    }
    out[`w${n}`] = { ours, floor };
    log(`   ${n} worker(s): ours ${ours.jobsPerSec} jobs/s, floor ${floor.jobsPerSec} jobs/s`);
  }
  return { runs: out as Record<string, { ours: Record<string, number>; floor: Record<string, number> }>, dbs };
}
