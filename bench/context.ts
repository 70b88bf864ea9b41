/**
 * What every phase shares: the run's services (Ctx), the request bodies and how they are sent, the mock's knobs, the
 * peer's headers, and the BullMQ side of the floors (a queue, the api's job options, completion watches).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { MongoClient } from 'mongodb';
import type { Pool } from 'undici';
import { callJobOptions } from '../src/infra/job-producer.service';
import { AUTH, C, FLOOR_WORKER, JOB_ATTEMPTS, PROMPT } from './config';
import * as L from './lib';
import { callQueue, DEFAULT_ROUTE } from '../src/infra/jobs';

/** The queue our default route's calls run on (both kinds). */
const CALLS_QUEUE = callQueue(DEFAULT_ROUTE);

export interface Ctx {
  work: string;
  redisUrl: string;
  mongoUri: string;
  mongoKind: string;
  mockUrl: string;
  peerUrl: string | null;
  peerError: string | null;
  /** The peer gateway's process, for its CPU time per proxied call. */
  peerPid: number | null;
  redis: Redis;
  mongo: MongoClient;
}

/** A target of the latency phases: the mock directly, our stack, or the peer gateway. */
export interface Target {
  name: 'direct' | 'ours' | 'peer';
  pool: Pool;
  headers: Record<string, string>;
}

export async function mockConfig(ctx: Ctx, knobs: Record<string, number | null>): Promise<void> {
  const res = await fetch(`${ctx.mockUrl}/__mock/config`, {
    method: 'POST',
    body: JSON.stringify(knobs),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`mock config: HTTP ${res.status}`);
  await fetch(`${ctx.mockUrl}/__mock/reset`, { method: 'POST', signal: AbortSignal.timeout(5000) }).then((r) =>
    r.arrayBuffer(),
  );
}

export const ZERO_MOCK = { latencyMs: 0, tokens: 8, tokenDelayMs: 0, fail: null };

export const peerHeaders = (ctx: Ctx) => ({
  authorization: 'Bearer sk-bench-peer',
  'x-portkey-provider': 'openai',
  'x-portkey-custom-host': `${ctx.mockUrl}/v1`,
});

const responseBody = (extra: Record<string, unknown> = {}) => ({
  model: C.model,
  input: PROMPT,
  background: true,
  metadata: { bench: '1' },
  ...extra,
});

export async function postBackground(pool: Pool, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await L.postJson(pool, '/v1/responses', responseBody(extra), AUTH);
  if (r.status !== 'queued' || typeof r.id !== 'string')
    throw new Error(`unexpected create answer: ${JSON.stringify(r).slice(0, 200)}`);
  return r.id;
}

export const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: C.model,
  messages: [{ role: 'user', content: PROMPT }],
  ...extra,
});

export async function chatOnce(t: Target): Promise<void> {
  const r = await L.postJson(t.pool, '/v1/chat/completions', chatBody(), t.headers);
  const content = (r.choices as { message?: { content?: unknown } }[] | undefined)?.[0]?.message?.content;
  if (typeof content !== 'string' || content.length === 0)
    throw new Error(`${t.name}: no completion in ${JSON.stringify(r).slice(0, 200)}`);
}

/** Waits until a BullMQ queue's completed set holds `target` jobs; returns when it did (ms clock). */
export async function waitCompleted(
  ctx: Ctx,
  prefix: string,
  target: number,
  timeoutMs: number,
  polls?: { n: number },
): Promise<number> {
  const key = `${prefix}:${CALLS_QUEUE}:completed`;
  const failedKey = `${prefix}:${CALLS_QUEUE}:failed`;
  return L.waitFor(
    `${target} completed jobs in ${prefix}`,
    async () => {
      if (polls) polls.n++;
      const n = await ctx.redis.zcard(key);
      if (n >= target) return L.now();
      if (polls === undefined && (await ctx.redis.zcard(failedKey)) > 0) throw new Error(`jobs failed in ${prefix}`);
      return undefined;
    },
    timeoutMs,
    10,
  );
}

/**
 * Follows a queue's completed set until `jobs` more than `base` completed or the deadline passed;
 * returns how many completed and when the last of them did.
 */
export async function completedBy(
  ctx: Ctx,
  prefix: string,
  base: number,
  jobs: number,
  deadline: number,
): Promise<{ count: number; at: number }> {
  const key = `${prefix}:${CALLS_QUEUE}:completed`;
  let count = 0;
  let at = L.now();
  for (;;) {
    const n = (await ctx.redis.zcard(key)) - base;
    if (n > count) {
      count = n;
      at = L.now();
    }
    if (count >= jobs || L.now() > deadline) return { count, at };
    await L.sleep(10);
  }
}

/** The options the api's producer gives every call job (imported from it, not copied). */
export const jobOptions = (jobId: string) => callJobOptions(jobId, JOB_ATTEMPTS);

/** A BullMQ Queue on its own connection; close() ends both (a passed-in connection is not closed by BullMQ). */
export function openQueue(
  prefix: string,
  redisUrl: string,
  maxRetriesPerRequest: number | null = null,
): { queue: Queue; close(): Promise<void> } {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest });
  connection.on('error', () => undefined); // failures surface as rejected commands
  const queue = new Queue(CALLS_QUEUE, { prefix, connection });
  return {
    queue,
    close: async () => {
      await queue.close().catch(() => undefined);
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

export const newRespId = () => `resp_${randomBytes(24).toString('hex')}`;

/**
 * Starts the floor's bare BullMQ worker (no-op processor, same queue name, lock, stall settings and concurrency as
 * ours) on `redisUrl`; resolves once it is connected, and stops it again if it never is.
 */
export async function startFloorWorker(
  ctx: Ctx,
  name: string,
  redisUrl: string,
  prefix: string,
  logName: string,
): Promise<L.Launched> {
  const w = L.launch(
    name,
    process.execPath,
    [FLOOR_WORKER],
    {
      PATH: process.env.PATH ?? '',
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      QUEUE_NAME: CALLS_QUEUE,
      CONCURRENCY: String(C.workerConcurrency),
    },
    join(ctx.work, 'logs', logName),
  );
  try {
    await L.waitFor(name, () => (readFileSync(w.logFile, 'utf8').includes('ready') ? true : undefined), 20_000, 50);
  } catch (err) {
    await L.stopProcess(w.child);
    throw err;
  }
  return w;
}
