/**
 * 5a. Memory with queued jobs: RSS of the api and the worker while up to 10k background jobs wait in Redis (sampled
 * all along, checkpoints after 1 s idle), and the api's live heap after each full GC (node --trace-gc).
 */
import { readFileSync } from 'node:fs';
import { C, log } from '../config';
import { type Ctx, mockConfig, postBackground, ZERO_MOCK } from '../context';
import * as L from '../lib';
import { startBenchStack } from '../stack';
import { callQueue, DEFAULT_ROUTE } from '../../src/infra/jobs';

/** The queue our default route's calls run on (both kinds). */
const CALLS_QUEUE = callQueue(DEFAULT_ROUTE);

export async function measureQueued(ctx: Ctx) {
  // Queued jobs stay queued: the mock answers after 10 minutes, the worker holds only its
  // WORKER_CONCURRENCY jobs and the rest wait in Redis.
  await mockConfig(ctx, { ...ZERO_MOCK, latencyMs: 600_000 });
  const queued: { queued: number; apiMb: number; workerMb: number; label: string }[] = [];
  // --trace-gc logs the live heap after every full collection: a leak shows there as a rising
  // floor, whatever RSS does between collections.
  const st = await startBenchStack(ctx, {
    label: 'memq',
    workers: 1,
    concurrency: C.memQueued.workerConcurrency,
    apiNodeFlags: ['--trace-gc'],
  });
  const apiStarted = L.now();
  // Calls wait with a priority (the key's in-flight count), so most of them are in BullMQ's prioritized set.
  const waiting = async () =>
    (await ctx.redis.llen(`${st.prefix}:${CALLS_QUEUE}:wait`)) +
    (await ctx.redis.zcard(`${st.prefix}:${CALLS_QUEUE}:prioritized`));
  // RSS rises and falls with garbage collection, so besides the checkpoints the RSS is sampled
  // all along, and the peaks of two equal stretches of the fill are compared.
  const trace: { posted: number; at: number; apiMb: number; workerMb: number }[] = [];
  let fullGcs: { atMs: number; posted: number; liveMb: number; heapMb: number }[] = [];
  let posted = 0;
  let sampler: NodeJS.Timeout | null = null;
  const [cp1, cp2] = C.memQueued.checkpoints;
  const windows = { first: [cp1 / 2, cp1], second: [cp2 - cp1 / 2, cp2] };
  let peaks: Record<string, unknown> = {};
  try {
    await L.sleep(1000);
    queued.push({
      label: 'cold (no request yet)',
      queued: await waiting(),
      apiMb: await L.rssSample(st.api.pid),
      workerMb: await L.rssSample(st.workers[0].pid),
    });
    const post = async (count: number) => {
      const r = await L.runLoad({
        concurrency: C.memQueued.concurrency,
        count,
        op: () => postBackground(st.pool).then(() => void posted++),
      });
      if (r.errors) throw new Error(`POST errors while queueing: ${r.firstError}`);
    };
    await post(C.memQueued.warmup);
    await L.sleep(1000);
    queued.push({
      label: `after ${C.memQueued.warmup} warm-up requests`,
      queued: await waiting(),
      apiMb: await L.rssSample(st.api.pid),
      workerMb: await L.rssSample(st.workers[0].pid),
    });
    sampler = setInterval(() => {
      try {
        trace.push({
          posted,
          at: L.round(L.now() - apiStarted, 0),
          apiMb: L.round(L.rssMb(st.api.pid), 1),
          workerMb: L.round(L.rssMb(st.workers[0].pid), 1),
        });
      } catch {
        // a process just exited; the phase will fail on its own
      }
    }, 200);
    for (const target of C.memQueued.checkpoints) {
      await post(target + C.memQueued.workerConcurrency - posted);
      await L.sleep(1000);
      queued.push({
        label: `${target} queued`,
        queued: await waiting(),
        apiMb: await L.rssSample(st.api.pid),
        workerMb: await L.rssSample(st.workers[0].pid),
      });
      log(
        `   ${await waiting()} queued: api ${queued.at(-1)!.apiMb.toFixed(1)} MiB, ` +
          `worker ${queued.at(-1)!.workerMb.toFixed(1)} MiB`,
      );
    }
    const peak = (w: number[], k: 'apiMb' | 'workerMb') =>
      Math.max(...trace.filter((x) => x.posted > w[0] && x.posted <= w[1]).map((x) => x[k]));
    peaks = {
      windows,
      samples: trace.length,
      apiFirst: peak(windows.first, 'apiMb'),
      apiSecond: peak(windows.second, 'apiMb'),
      workerFirst: peak(windows.first, 'workerMb'),
      workerSecond: peak(windows.second, 'workerMb'),
    };
    // "[pid:0x..]   6384 ms: Mark-Compact 108.2 (136.8) -> 35.2 (120.3) MB, ..." (ms since start)
    const gcLog = readFileSync(st.api.logFile, 'utf8');
    const postedAt = (ms: number) => trace.filter((x) => x.at <= ms).at(-1)?.posted ?? 0;
    fullGcs = [...gcLog.matchAll(/ (\d+) ms: Mark-Compact [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/g)]
      .map((m) => ({ atMs: Number(m[1]), posted: 0, liveMb: Number(m[2]), heapMb: Number(m[3]) }))
      .map((g) => ({ ...g, posted: postedAt(g.atMs) }))
      .filter((g) => g.posted >= C.memQueued.warmup);
  } finally {
    if (sampler) clearInterval(sampler);
    await st.stop();
  }
  return {
    queued,
    fullGcs,
    peaks: peaks as {
      windows: { first: number[]; second: number[] };
      apiFirst: number;
      apiSecond: number;
      workerFirst: number;
      workerSecond: number;
    },
    trace,
  };
}
