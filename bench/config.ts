/**
 * What `npm run bench` measures with, in one place: the size of every measurement (BENCH_QUICK=1 shrinks them), the
 * key and prompt every request uses, the paths, the log line.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ROOT } from '../tools/dev/services';

export { ROOT };
export const DIST = join(ROOT, 'dist');
export const BENCH = join(ROOT, 'bench');
export const PEER = join(BENCH, 'peer');
export const PEER_ENTRY = join(PEER, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
/** The floor's bare BullMQ worker, compiled beside this file. */
export const FLOOR_WORKER = join(__dirname, 'floor-worker.js');

/** Sizes of every measurement; the whole run is sized to finish in about five minutes. */
export const C = {
  budgetMs: 9.5 * 60_000,
  apiKey: 'sk-bench-key-0001',
  userId: 'bench',
  /** WORKER_CONCURRENCY for the throughput, latency and streaming stacks (and the floor worker). */
  workerConcurrency: 64,
  model: 'gpt-4o-mini',
  enqueue: { concurrencies: [1, 64], rounds: 2, roundMs: 2500, warmup: 300 },
  /** Ours is time-capped: throughput is then what completed by the cap (reported as partial). */
  e2e: { workers: [1, 2], jobs: 200, floorJobs: 3000, concurrency: 64, warmup: 20, capMs: 30_000 },
  /** Rounds per target are time-bounded (requests in flight at the end still count). */
  sync: {
    concurrencies: [1, 64],
    rounds: { 1: 3, 64: 1 } as Record<number, number>,
    roundMs: { 1: 2000, 64: 4000 } as Record<number, number>,
    warmup: 16,
  },
  stream: { rounds: 3, perRound: 5, tokens: 20, tokenDelayMs: 10 },
  memQueued: { checkpoints: [5000, 10000], concurrency: 64, workerConcurrency: 10, warmup: 300 },
  memStreams: { streams: 500, tokens: 60, tokenDelayMs: 400, settleMs: 3000 },
  cost: { jobs: 100, syncCalls: 500, cpuWarmup: 300, warmup: 10, concurrency: 8 },
};

/** BENCH_QUICK=1: a smoke run with small sizes (figures not comparable; for working on the bench). */
if (process.env.BENCH_QUICK === '1') {
  Object.assign(C.enqueue, { roundMs: 1000, warmup: 50 });
  Object.assign(C.e2e, { jobs: 60, floorJobs: 500, warmup: 10 });
  Object.assign(C.sync, { rounds: { 1: 1, 64: 1 }, roundMs: { 1: 1000, 64: 2000 }, warmup: 10 });
  Object.assign(C.stream, { rounds: 1, perRound: 3 });
  Object.assign(C.memQueued, { checkpoints: [500, 1000], warmup: 50 });
  Object.assign(C.memStreams, { streams: 50, tokens: 30 });
  Object.assign(C.cost, { jobs: 50, syncCalls: 60, cpuWarmup: 30, warmup: 10 });
}

/**
 * The app's default JOB_ATTEMPTS: the bench's stacks do not set it, so the floor adds its jobs with the options the
 * api gives them (src/infra/job-producer.service callJobOptions) and this many attempts.
 */
export const JOB_ATTEMPTS = 4;

export const AUTH = { authorization: `Bearer ${C.apiKey}` };
export const PROMPT = 'Say hello to the benchmark.';
/** When the bench started (the log lines and the report's run time count from here). */
export const t0 = Date.now();
export const log = (msg: string) => process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
export const rand = () => randomBytes(4).toString('hex');
