/**
 * The bench's stacks: the tests' stack starter (test/support/stack) with the bench's environment (its one key, limits
 * at their maximums, LOG_LEVEL=warn), its own names, logs under the run's folder, and an undici pool to the api.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { startStack } from '../test/support/stack';
import { C, rand } from './config';
import type { Ctx } from './context';
import * as L from './lib';

export interface BenchStack {
  label: string;
  apiUrl: string;
  api: { pid: number; logFile: string };
  workers: { pid: number }[];
  prefix: string;
  db: string;
  pool: Pool;
  stop(): Promise<void>;
}

export interface BenchStackOptions {
  label: string;
  workers: number;
  concurrency: number;
  /** Defaults: the bench's MongoDB server and Redis; the cost phase passes counting proxies. */
  mongoApi?: string;
  mongoWorker?: string;
  redisApi?: string;
  redisWorker?: string;
  connections?: number;
  /** Node flags for the api process (a diagnostic flag; the app itself is unchanged). */
  apiNodeFlags?: string[];
}

export async function startBenchStack(ctx: Ctx, o: BenchStackOptions): Promise<BenchStack> {
  const logDir = join(ctx.work, 'logs', o.label);
  mkdirSync(logDir, { recursive: true });
  const st = await startStack({
    upstreamUrl: ctx.mockUrl,
    redisUrl: ctx.redisUrl,
    mongoUri: ctx.mongoUri,
    workers: o.workers,
    queuePrefix: `bq-${o.label}-${rand()}`,
    database: `bench_${o.label.replace(/\W/g, '_')}_${rand()}`,
    baseEnv: {
      API_KEYS: `${C.apiKey}:${C.userId}`,
      WORKER_CONCURRENCY: String(o.concurrency),
      LOG_LEVEL: 'warn',
      // Per-key limits (defaults 60 rpm, 16 in flight) would throttle the load; they stay out of the way at their
      // maximums, as in the tests' TEST_ENV. Admission is still checked.
      RATE_LIMIT_RPM: '10000000',
      RATE_LIMIT_CONCURRENCY: '1000000',
      MAX_STREAMS_PER_KEY: '100000',
    },
    apiStores: { redisUrl: o.redisApi, mongoUri: o.mongoApi },
    workerStores: { redisUrl: o.redisWorker, mongoUri: o.mongoWorker },
    apiNodeFlags: o.apiNodeFlags,
    logDir,
    readyTimeoutMs: 30_000,
    stopGraceMs: 3000,
    onSpawn: L.adoptChild,
  });
  const apiUrl = st.apiUrls[0];
  const pool = new Pool(apiUrl, { connections: o.connections ?? 128, headersTimeout: 60_000, bodyTimeout: 60_000 });
  return {
    label: o.label,
    apiUrl,
    api: { pid: st.apis[0].pid!, logFile: st.apiLogFiles[0] },
    workers: st.workers.map((w) => ({ pid: w.pid! })),
    prefix: st.prefix,
    db: st.database,
    pool,
    stop: async () => {
      await st.stop();
      await pool.close().catch(() => undefined);
    },
  };
}
