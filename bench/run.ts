/**
 * `npm run bench` (issue 7): starts everything it needs on this machine (Redis and a MongoDB wire
 * server via provisionServices, the mock upstream, the built api and workers as separate
 * processes, Portkey's gateway as the peer), measures, prints a table and writes
 * bench/results/latest.json and bench/RESULTS.md. Every figure is measured in this run; ratios
 * are against baselines measured in the same run on the same Redis and MongoDB server.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { type JobsOptions, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { type Collection, type Document, MongoClient, ObjectId } from 'mongodb';
import { Pool } from 'undici';
import * as L from './lib';

const ROOT = resolve(__dirname, '..');
const DIST = join(ROOT, 'dist');
const BENCH = join(ROOT, 'bench');
const PEER = join(BENCH, 'peer');
const PEER_ENTRY = join(PEER, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');

/** Sizes of every measurement; the whole run is sized to finish in about five minutes. */
const C = {
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
  cost: { jobs: 100, syncCalls: 20, warmup: 10, concurrency: 8 },
};

/** BENCH_QUICK=1: a smoke run with small sizes (figures not comparable; for working on the bench). */
if (process.env.BENCH_QUICK === '1') {
  Object.assign(C.enqueue, { roundMs: 1000, warmup: 50 });
  Object.assign(C.e2e, { jobs: 60, floorJobs: 500, warmup: 10 });
  Object.assign(C.sync, { rounds: { 1: 1, 64: 1 }, roundMs: { 1: 1000, 64: 2000 }, warmup: 10 });
  Object.assign(C.stream, { rounds: 1, perRound: 3 });
  Object.assign(C.memQueued, { checkpoints: [500, 1000], warmup: 50 });
  Object.assign(C.memStreams, { streams: 50, tokens: 30 });
  Object.assign(C.cost, { jobs: 50, syncCalls: 20, warmup: 10 });
}

const AUTH = { authorization: `Bearer ${C.apiKey}` };
const PROMPT = 'Say hello to the benchmark.';
const t0 = Date.now();
const log = (msg: string) => process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
const rand = () => randomBytes(4).toString('hex');

interface Ctx {
  work: string;
  redisUrl: string;
  mongoUri: string;
  mongoKind: string;
  mockUrl: string;
  peerUrl: string | null;
  peerError: string | null;
  redis: Redis;
  mongo: MongoClient;
}

// ------------------------------------------------------------------------ setup

function newestMtime(dir: string, keep: (f: string) => boolean): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, keep));
    else if (keep(p)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the app when dist/ is missing or older than src/ (or the build config). */
function ensureBuild(): void {
  const marker = join(DIST, 'main-api.js');
  const needed = [
    'main-api.js',
    'main-worker.js',
    '../dist-tools/dev/services.js',
    '../dist-tools/mock-upstream/main.js',
  ].map((f) => join(DIST, f));
  const sources = Math.max(
    newestMtime(join(ROOT, 'src'), (f) => f.endsWith('.ts') && !f.endsWith('.spec.ts')),
    ...['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => statSync(join(ROOT, f)).mtimeMs),
  );
  if (needed.every((f) => existsSync(f)) && statSync(marker).mtimeMs >= sources) {
    log('dist/ is up to date');
    return;
  }
  log('dist/ is missing or stale: npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`npm run build failed (${r.error?.message ?? `exit ${r.status}`})`);
}

/** Installs the peer gateway in its own folder (never in the project's node_modules). */
function ensurePeer(): string | null {
  if (existsSync(PEER_ENTRY)) return null;
  log('installing the peer gateway: npm install --prefix bench/peer');
  const r = spawnSync('npm', ['install', '--prefix', PEER, '--no-audit', '--no-fund'], {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 240_000,
  });
  if (r.status !== 0 || !existsSync(PEER_ENTRY))
    return `npm install --prefix bench/peer failed (${r.error?.message ?? `exit ${r.status}`})`;
  return null;
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

async function waitHttp(url: string, timeoutMs: number, okStatus = (s: number) => s < 500): Promise<void> {
  await L.waitFor(
    url,
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return okStatus(res.status) ? true : undefined;
    },
    timeoutMs,
    100,
  );
}

async function mockConfig(ctx: Ctx, knobs: Record<string, number | null>): Promise<void> {
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

const ZERO_MOCK = { latencyMs: 0, tokens: 8, tokenDelayMs: 0, fail: null };

function mongoUriFor(base: string, db: string): string {
  const u = new URL(base);
  u.pathname = `/${db}`;
  return u.toString();
}

const peerHeaders = (ctx: Ctx) => ({
  authorization: 'Bearer sk-bench-peer',
  'x-portkey-provider': 'openai',
  'x-portkey-custom-host': `${ctx.mockUrl}/v1`,
});

// ------------------------------------------------------------------------ our stack

interface Stack {
  label: string;
  apiUrl: string;
  api: L.Launched;
  workers: L.Launched[];
  prefix: string;
  db: string;
  pool: Pool;
  stop(): Promise<void>;
}

interface StackOptions {
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

async function startStack(ctx: Ctx, o: StackOptions): Promise<Stack> {
  const prefix = `bq-${o.label}-${rand()}`;
  const db = `bench_${o.label.replace(/\W/g, '_')}_${rand()}`;
  const port = await freePort();
  const base: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    QUEUE_PREFIX: prefix,
    UPSTREAM_BASE_URL: ctx.mockUrl,
    API_KEYS: `${C.apiKey}:${C.userId}`,
    WORKER_CONCURRENCY: String(o.concurrency),
    LOG_LEVEL: 'warn',
    // Per-key limits (defaults 60 rpm, 16 in flight) would throttle the load; they stay out of
    // the way at their maximums, as in test/support/stack.ts. Admission is still checked.
    RATE_LIMIT_RPM: '10000000',
    RATE_LIMIT_CONCURRENCY: '1000000',
  };
  const logDir = join(ctx.work, 'logs');
  const api = L.launch(
    `api-${o.label}`,
    process.execPath,
    [...(o.apiNodeFlags ?? []), join(DIST, 'main-api.js')],
    {
      ...base,
      PORT: String(port),
      REDIS_URL: o.redisApi ?? ctx.redisUrl,
      MONGODB_URI: mongoUriFor(o.mongoApi ?? ctx.mongoUri, db),
    },
    join(logDir, `${o.label}-api.log`),
  );
  const apiUrl = `http://127.0.0.1:${port}`;
  const workers: L.Launched[] = [];
  const { queue, close: closeQueue } = openQueue(prefix, ctx.redisUrl);
  const stop = async () => {
    await Promise.all(workers.map((w) => L.stopProcess(w.child)));
    await L.stopProcess(api.child);
    await pool.close().catch(() => undefined);
  };
  const pool = new Pool(apiUrl, { connections: o.connections ?? 128, headersTimeout: 60_000, bodyTimeout: 60_000 });
  try {
    await waitHttp(`${apiUrl}/health`, 30_000, (s) => s === 200);
    for (let i = 0; i < o.workers; i++) {
      const before = await queue.getWorkersCount();
      workers.push(
        L.launch(
          `worker${i}-${o.label}`,
          process.execPath,
          [join(DIST, 'main-worker.js')],
          {
            ...base,
            REDIS_URL: o.redisWorker ?? ctx.redisUrl,
            MONGODB_URI: mongoUriFor(o.mongoWorker ?? ctx.mongoUri, db),
          },
          join(logDir, `${o.label}-worker${i}.log`),
        ),
      );
      // LOG_LEVEL=warn hides "worker ready": a worker is ready once BullMQ lists its connection.
      await L.waitFor(
        `worker ${i} of ${o.label}`,
        async () => ((await queue.getWorkersCount()) > before ? true : undefined),
        30_000,
        100,
      );
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    await closeQueue();
  }
  return { label: o.label, apiUrl, api, workers, prefix, db, pool, stop };
}

const responseBody = (extra: Record<string, unknown> = {}) => ({
  model: C.model,
  input: PROMPT,
  background: true,
  metadata: { bench: '1' },
  ...extra,
});

async function postBackground(pool: Pool, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await L.postJson(pool, '/v1/responses', responseBody(extra), AUTH);
  if (r.status !== 'queued' || typeof r.id !== 'string')
    throw new Error(`unexpected create answer: ${JSON.stringify(r).slice(0, 200)}`);
  return r.id;
}

/** Waits until a BullMQ queue's completed set holds `target` jobs; returns when it did (ms clock). */
async function waitCompleted(
  ctx: Ctx,
  prefix: string,
  target: number,
  timeoutMs: number,
  polls?: { n: number },
): Promise<number> {
  const key = `${prefix}:responses:completed`;
  const failedKey = `${prefix}:responses:failed`;
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
async function completedBy(
  ctx: Ctx,
  prefix: string,
  base: number,
  jobs: number,
  deadline: number,
): Promise<{ count: number; at: number }> {
  const key = `${prefix}:responses:completed`;
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

function jobOptions(jobId: string): JobsOptions {
  // The same options as src/queue/job-producer.service.ts (JOB_ATTEMPTS default 4).
  return {
    jobId,
    attempts: 4,
    backoff: { type: 'upstream' },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** A BullMQ Queue on its own connection; close() ends both (a passed-in connection is not closed by BullMQ). */
function openQueue(
  prefix: string,
  redisUrl: string,
  maxRetriesPerRequest: number | null = null,
): { queue: Queue; close(): Promise<void> } {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest });
  connection.on('error', () => undefined); // failures surface as rejected commands
  const queue = new Queue('responses', { prefix, connection });
  return {
    queue,
    close: async () => {
      await queue.close().catch(() => undefined);
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

const newRespId = () => `resp_${randomBytes(24).toString('hex')}`;

// ------------------------------------------------------------------------ 1. enqueue

interface Rate {
  rps: number;
  ok: number;
  errors: number;
  firstError: string | null;
  latency: L.Summary;
}

function rateOf(runs: L.LoadResult[]): Rate {
  const ok = runs.reduce((s, r) => s + r.ok, 0);
  const elapsed = runs.reduce((s, r) => s + r.elapsedMs, 0);
  return {
    rps: L.round(ok / (elapsed / 1000), 1),
    ok,
    errors: runs.reduce((s, r) => s + r.errors, 0),
    firstError: runs.find((r) => r.firstError)?.firstError ?? null,
    latency: L.summarize(runs.flatMap((r) => r.latencies)),
  };
}

async function phaseEnqueue(ctx: Ctx) {
  log('1/6 enqueue: POST /v1/responses background:true vs bare insertOne + queue.add');
  const st = await startStack(ctx, { label: 'enqueue', workers: 0, concurrency: C.workerConcurrency });
  const { queue: floorQueue, close: closeFloorQueue } = openQueue(`bfloor-${rand()}`, ctx.redisUrl, 1);
  try {
    await L.runLoad({
      concurrency: 16,
      count: C.enqueue.warmup,
      op: () => postBackground(st.pool).then(() => undefined),
    });
    // The floor writes documents of the same shape as ours: a copy of one the api stored.
    const template = await ctx.mongo.db(st.db).collection('responses').findOne({});
    if (!template) throw new Error('no stored response to copy');
    const floorColl: Collection<Document> = ctx.mongo.db(`bench_floor_${rand()}`).collection('responses');
    await floorColl.createIndex({ userId: 1, responseId: 1 }, { unique: true });
    await floorColl.createIndex({ userId: 1, createdAt: 1, _id: 1 });
    const floorOp = async () => {
      const id = newRespId();
      const at = new Date();
      await floorColl.insertOne({
        ...template,
        _id: new ObjectId(),
        responseId: id,
        omgUrId: `req_${randomBytes(16).toString('hex')}`,
        createdAt: at,
        updatedAt: at,
      });
      await floorQueue.add(
        'run-response',
        { responseId: id, userId: C.userId, requestId: template.omgUrId },
        jobOptions(id),
      );
    };
    await L.runLoad({ concurrency: 16, count: C.enqueue.warmup, op: floorOp });
    const oursOp = () => postBackground(st.pool).then(() => undefined);

    const out: Record<string, { ours: Rate; floor: Rate }> = {};
    for (const conc of C.enqueue.concurrencies) {
      const ours: L.LoadResult[] = [];
      const floor: L.LoadResult[] = [];
      for (let r = 0; r < C.enqueue.rounds; r++) {
        // Alternate the order per round, so drift on a shared machine hits both sides alike.
        const order = r % 2 === 0 ? (['floor', 'ours'] as const) : (['ours', 'floor'] as const);
        for (const side of order) {
          const res = await L.runLoad({
            concurrency: conc,
            durationMs: C.enqueue.roundMs,
            op: side === 'ours' ? oursOp : floorOp,
          });
          (side === 'ours' ? ours : floor).push(res);
        }
      }
      out[`c${conc}`] = { ours: rateOf(ours), floor: rateOf(floor) };
      log(`   c${conc}: ours ${out[`c${conc}`].ours.rps} req/s, floor ${out[`c${conc}`].floor.rps} ops/s`);
    }
    return out;
  } finally {
    await closeFloorQueue();
    await st.stop();
  }
}

// ------------------------------------------------------------------------ 2. end to end

async function phaseE2E(ctx: Ctx) {
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
      for (let i = 0; i < n; i++) {
        const w = L.launch(
          `floor-worker${i}`,
          process.execPath,
          [join(__dirname, 'floor-worker.js')],
          {
            PATH: process.env.PATH ?? '',
            REDIS_URL: ctx.redisUrl,
            QUEUE_PREFIX: prefix,
            QUEUE_NAME: 'responses',
            CONCURRENCY: String(C.workerConcurrency),
          },
          join(ctx.work, 'logs', `floor-e2e${n}-worker${i}.log`),
        );
        floorWorkers.push(w);
        await L.waitFor(
          `floor worker ${i}`,
          () => (readFileSync(w.logFile, 'utf8').includes('ready') ? true : undefined),
          20_000,
          50,
        );
      }
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

    const st = await startStack(ctx, { label: `e2e${n}`, workers: n, concurrency: C.workerConcurrency });
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

/**
 * Context for every figure that involves MongoDB: how long the server of this run takes for a
 * ping and for the lookup every job makes (a record by owner and id), on a small collection and
 * on one the size the end-to-end phase left behind.
 */
async function phaseMongoServer(ctx: Ctx, appDb: string) {
  const time = async (n: number, f: (i: number) => Promise<unknown>) => {
    const v: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = L.now();
      await f(i);
      v.push(L.now() - t);
    }
    return L.summarize(v);
  };
  const src = ctx.mongo.db(appDb).collection('responses');
  const docs = await src.find({}).toArray();
  if (docs.length === 0) throw new Error(`no documents in ${appDb}`);
  const small = ctx.mongo.db(`bench_diag_${rand()}`).collection('responses');
  await small.createIndex({ userId: 1, responseId: 1 }, { unique: true });
  await small.insertMany(docs.slice(0, 50));
  const byKey = (c: Collection<Document>, pool: Document[]) => (i: number) =>
    c.findOne({ userId: C.userId, responseId: pool[(i * 7) % pool.length].responseId, deletedAt: null });
  const out = {
    ping: await time(20, () => ctx.mongo.db('admin').command({ ping: 1 })),
    smallDocs: 50,
    findOneSmall: await time(20, byKey(small, docs.slice(0, 50))),
    largeDocs: docs.length,
    findOneLarge: await time(20, byKey(src, docs)),
    findOneByIdLarge: await time(20, (i) => src.findOne({ _id: docs[(i * 7) % docs.length]._id })),
    docBytes: JSON.stringify(docs[0]).length,
  };
  log(
    `   MongoDB server: ping ${out.ping.p50} ms, findOne by owner+id ${out.findOneSmall.p50} ms @50 docs, ${out.findOneLarge.p50} ms @${out.largeDocs} docs (by _id ${out.findOneByIdLarge.p50} ms)`,
  );
  return out;
}

// ------------------------------------------------------------------------ 3 and 4. latency

interface Target {
  name: 'direct' | 'ours' | 'peer';
  pool: Pool;
  headers: Record<string, string>;
}

/** Direct-to-mock and the peer; ours is added per stack. */
function fixedTargets(ctx: Ctx): Target[] {
  const t: Target[] = [{ name: 'direct', pool: new Pool(ctx.mockUrl, { connections: 128 }), headers: {} }];
  if (ctx.peerUrl)
    t.push({ name: 'peer', pool: new Pool(ctx.peerUrl, { connections: 128 }), headers: peerHeaders(ctx) });
  return t;
}

/**
 * A fresh stack (empty database) for a latency measurement: on a MongoDB wire server without
 * index use, lookups slow down as collections grow, so no measurement inherits another's rows.
 */
async function withLatencyStack<T>(
  ctx: Ctx,
  label: string,
  fixed: Target[],
  fn: (targets: Target[]) => Promise<T>,
): Promise<T> {
  const st = await startStack(ctx, { label, workers: 1, concurrency: C.workerConcurrency });
  try {
    const [direct, ...rest] = fixed;
    return await fn([direct, { name: 'ours', pool: st.pool, headers: AUTH }, ...rest]);
  } finally {
    await st.stop();
  }
}

const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: C.model,
  messages: [{ role: 'user', content: PROMPT }],
  ...extra,
});

async function chatOnce(t: Target): Promise<void> {
  const r = await L.postJson(t.pool, '/v1/chat/completions', chatBody(), t.headers);
  const content = (r.choices as { message?: { content?: unknown } }[] | undefined)?.[0]?.message?.content;
  if (typeof content !== 'string' || content.length === 0)
    throw new Error(`${t.name}: no completion in ${JSON.stringify(r).slice(0, 200)}`);
}

async function phaseSync(ctx: Ctx, fixed: Target[]) {
  log('3/6 synchronous overhead: POST /v1/chat/completions, ours and peer minus direct-to-mock');
  await mockConfig(ctx, ZERO_MOCK);
  const out: Record<string, Record<string, L.Summary & { errors: number }>> = {};
  for (const conc of C.sync.concurrencies)
    await withLatencyStack(ctx, `sync${conc}`, fixed, async (targets) => {
      const lat: Record<string, number[]> = {};
      const errs: Record<string, number> = {};
      for (const t of targets) {
        await L.runLoad({ concurrency: conc, count: C.sync.warmup, op: () => chatOnce(t) });
        lat[t.name] = [];
        errs[t.name] = 0;
      }
      for (let r = 0; r < C.sync.rounds[conc]; r++) {
        const order = targets.map((_, i) => targets[(i + r) % targets.length]); // rotate per round
        for (const t of order) {
          const res = await L.runLoad({ concurrency: conc, durationMs: C.sync.roundMs[conc], op: () => chatOnce(t) });
          lat[t.name].push(...res.latencies);
          errs[t.name] += res.errors;
          if (res.errors) log(`   ${t.name} c${conc}: ${res.errors} errors, first: ${res.firstError}`);
        }
      }
      out[`c${conc}`] = Object.fromEntries(
        targets.map((t) => [t.name, { ...L.summarize(lat[t.name]), errors: errs[t.name] }]),
      );
      const s = out[`c${conc}`];
      log(
        `   c${conc} p50: direct ${s.direct.p50} ms, ours ${s.ours.p50} ms${s.peer ? `, peer ${s.peer.p50} ms` : ''}`,
      );
    });
  return out;
}

interface StreamStats {
  n: number;
  errors: number;
  ttft: L.Summary;
  gapMean: number;
  gap: L.Summary;
  total: L.Summary;
}

async function phaseStream(ctx: Ctx, fixed: Target[]) {
  return withLatencyStack(ctx, 'stream', fixed, (targets) => measureStreams(ctx, targets));
}

async function measureStreams(ctx: Ctx, targets: Target[]) {
  log(
    `4/6 streaming: time to first token and inter-token gaps, mock paced ${C.stream.tokens} tokens x ${C.stream.tokenDelayMs} ms`,
  );
  await mockConfig(ctx, { ...ZERO_MOCK, tokens: C.stream.tokens, tokenDelayMs: C.stream.tokenDelayMs });
  const kinds = [
    {
      kind: 'responses',
      path: '/v1/responses',
      body: { model: C.model, input: PROMPT, stream: true },
      isToken: L.responsesToken,
    },
    { kind: 'chat', path: '/v1/chat/completions', body: chatBody({ stream: true }), isToken: L.chatToken },
  ];
  const out: Record<string, Record<string, StreamStats>> = {};
  for (const k of kinds) {
    const timings: Record<string, L.StreamTiming[]> = {};
    const errs: Record<string, number> = {};
    for (const t of targets) {
      timings[t.name] = [];
      errs[t.name] = 0;
      for (let i = 0; i < 3; i++)
        await L.timeStream(t.pool, k.path, k.body, t.headers, k.isToken).catch(() => undefined); // warm-up
    }
    for (let r = 0; r < C.stream.rounds; r++) {
      const order = targets.map((_, i) => targets[(i + r) % targets.length]);
      for (const t of order) {
        for (let i = 0; i < C.stream.perRound; i++) {
          try {
            const tm = await L.timeStream(t.pool, k.path, k.body, t.headers, k.isToken);
            if (tm.tokens !== C.stream.tokens)
              throw new Error(`${t.name}: ${tm.tokens} token events, expected ${C.stream.tokens}`);
            timings[t.name].push(tm);
          } catch (err) {
            errs[t.name]++;
            if (errs[t.name] === 1) log(`   ${k.kind} ${t.name}: ${(err as Error).message}`);
          }
        }
      }
    }
    out[k.kind] = Object.fromEntries(
      targets.map((t) => {
        const ts = timings[t.name];
        const gaps = ts.flatMap((x) => x.gaps);
        return [
          t.name,
          {
            n: ts.length,
            errors: errs[t.name],
            ttft: L.summarize(ts.map((x) => x.ttft)),
            gapMean: L.round(gaps.reduce((a, b) => a + b, 0) / gaps.length),
            gap: L.summarize(gaps),
            total: L.summarize(ts.map((x) => x.total)),
          },
        ];
      }),
    );
    const s = out[k.kind];
    log(
      `   ${k.kind} TTFT p50: direct ${s.direct.ttft.p50} ms, ours ${s.ours.ttft.p50} ms${s.peer ? `, peer ${s.peer.ttft.p50} ms` : ''}`,
    );
  }
  return out;
}

// ------------------------------------------------------------------------ 5. memory

async function phaseMemory(ctx: Ctx) {
  log(
    `5/6 memory: RSS with up to ${C.memQueued.checkpoints.at(-1)} queued jobs, then with ${C.memStreams.streams} open streams`,
  );
  // Queued jobs stay queued: the mock answers after 10 minutes, the worker holds only its
  // WORKER_CONCURRENCY jobs and the rest wait in Redis.
  await mockConfig(ctx, { ...ZERO_MOCK, latencyMs: 600_000 });
  const queued: { queued: number; apiMb: number; workerMb: number; label: string }[] = [];
  // --trace-gc logs the live heap after every full collection: a leak shows there as a rising
  // floor, whatever RSS does between collections.
  let st = await startStack(ctx, {
    label: 'memq',
    workers: 1,
    concurrency: C.memQueued.workerConcurrency,
    apiNodeFlags: ['--trace-gc'],
  });
  const apiStarted = L.now();
  const waiting = () => ctx.redis.llen(`${st.prefix}:responses:wait`);
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
        `   ${await waiting()} queued: api ${queued.at(-1)!.apiMb.toFixed(1)} MiB, worker ${queued.at(-1)!.workerMb.toFixed(1)} MiB`,
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

  // Open streams: synchronous streamed responses. A stream is open once its first event
  // (response.created, written by the api) arrived; the mock paces tokens slowly, so none ends
  // before the sample, and the worker runs as many of them as it has claimed by then.
  const m = C.memStreams;
  await mockConfig(ctx, { ...ZERO_MOCK, tokens: m.tokens, tokenDelayMs: m.tokenDelayMs });
  st = await startStack(ctx, { label: 'mems', workers: 1, concurrency: m.streams + 50, connections: m.streams + 50 });
  const streamsOut: Record<string, unknown> = {};
  const ac = new AbortController();
  setMaxListeners(0, ac.signal); // one listener per open stream
  const running: Promise<unknown>[] = [];
  try {
    // Warm-up streams, short (per-request mock knobs travel in metadata to the upstream).
    const quick = {
      model: C.model,
      input: PROMPT,
      stream: true,
      metadata: { mock_tokens: '3', mock_token_delay_ms: '0' },
    };
    await L.runLoad({
      concurrency: 10,
      count: 10,
      op: () => L.timeStream(st.pool, '/v1/responses', quick, AUTH, L.responsesToken).then(() => undefined),
    });
    await L.sleep(1000);
    const idle = { apiMb: await L.rssSample(st.api.pid), workerMb: await L.rssSample(st.workers[0].pid) };
    let opened = 0;
    let withTokens = 0;
    let finished = 0;
    let failed = 0;
    let firstError: string | null = null;
    const body = { model: C.model, input: PROMPT, stream: true };
    const openedAt = L.now();
    let openNow = 0;
    for (let i = 0; i < m.streams; i++) {
      let isOpen = false;
      running.push(
        L.timeStream(
          st.pool,
          '/v1/responses',
          body,
          AUTH,
          L.responsesToken,
          ac.signal,
          () => withTokens++,
          () => {
            isOpen = true;
            opened++;
            openNow++;
          },
        )
          .then(() => finished++)
          .catch((err: Error) => {
            failed++;
            firstError ??= err.message;
          })
          .finally(() => {
            if (isOpen) openNow--;
          }),
      );
    }
    await L.waitFor(`${m.streams} open streams`, () => (opened + failed >= m.streams ? true : undefined), 90_000, 50);
    const allOpenMs = L.now() - openedAt;
    if (failed > 0) log(`   ${failed} streams failed: ${firstError}`);
    await L.sleep(m.settleMs);
    const apiMb = await L.rssSample(st.api.pid);
    const workerMb = await L.rssSample(st.workers[0].pid);
    const during = {
      apiMb,
      workerMb,
      open: openNow,
      finished,
      withTokens,
      workerActiveJobs: await ctx.redis.llen(`${st.prefix}:responses:active`),
      failed,
      secondsToOpenAll: L.round(allOpenMs / 1000, 1),
    };
    Object.assign(streamsOut, {
      streams: m.streams,
      idle,
      during,
      apiKbPerStream: L.round(((during.apiMb - idle.apiMb) * 1024) / during.open, 1),
      workerKbPerActiveStream: during.workerActiveJobs
        ? L.round(((during.workerMb - idle.workerMb) * 1024) / during.workerActiveJobs, 1)
        : null,
    });
    log(
      `   ${during.open} open streams (${during.workerActiveJobs} taken by the worker, ${withTokens} with tokens): api ${apiMb.toFixed(1)} MiB (idle ${idle.apiMb.toFixed(1)}), worker ${workerMb.toFixed(1)} MiB (idle ${idle.workerMb.toFixed(1)})`,
    );
  } finally {
    ac.abort();
    await Promise.race([Promise.allSettled(running), L.sleep(15_000)]);
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
    streams: streamsOut,
  };
}

// ------------------------------------------------------------------------ 6. cost per job

async function commandStats(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const out: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

const MONITORING = (name: string) => /^(hello|ismaster|isMaster|op_query:.*)$/i.test(name);
const perJob = (c: Record<string, number>, n: number) =>
  Object.fromEntries(
    Object.entries(c)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, L.round(v / n, 2)]),
  );

async function phaseCost(ctx: Ctx) {
  log('6/6 cost per job: MongoDB and Redis round trips through counting proxies, Redis INFO commandstats');
  await mockConfig(ctx, ZERO_MOCK);
  const mongoTarget = (() => {
    const u = new URL(ctx.mongoUri);
    return { host: u.hostname, port: Number(u.port || 27017) };
  })();
  const redisTarget = (() => {
    const u = new URL(ctx.redisUrl);
    return { host: u.hostname, port: Number(u.port || 6379) };
  })();
  const proxies = {
    mongoApi: new L.CountingProxy(mongoTarget, 'mongo'),
    mongoWorker: new L.CountingProxy(mongoTarget, 'mongo'),
    redisApi: new L.CountingProxy(redisTarget, 'resp'),
    redisWorker: new L.CountingProxy(redisTarget, 'resp'),
    mongoFloor: new L.CountingProxy(mongoTarget, 'mongo'),
    redisFloor: new L.CountingProxy(redisTarget, 'resp'),
    redisFloorWorker: new L.CountingProxy(redisTarget, 'resp'),
  };
  for (const p of Object.values(proxies)) await p.listen();
  const url = (p: L.CountingProxy, scheme: string) => `${scheme}://127.0.0.1:${p.port}`;
  const snap = () =>
    Object.fromEntries(Object.entries(proxies).map(([k, p]) => [k, p.snapshot()])) as Record<
      keyof typeof proxies,
      Record<string, number>
    >;

  const st = await startStack(ctx, {
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

  // Floor: bare insertOne + queue.add, no-op worker, all through the same kind of proxies.
  const prefix = `bfloor-cost-${rand()}`;
  const floorColl = new MongoClient(mongoUriFor(url(proxies.mongoFloor, 'mongodb'), `bench_floorcost_${rand()}`));
  const { queue, close: closeQueue } = openQueue(prefix, url(proxies.redisFloor, 'redis'), 1);
  const fw = L.launch(
    'floor-worker-cost',
    process.execPath,
    [join(__dirname, 'floor-worker.js')],
    {
      PATH: process.env.PATH ?? '',
      REDIS_URL: url(proxies.redisFloorWorker, 'redis'),
      QUEUE_PREFIX: prefix,
      QUEUE_NAME: 'responses',
      CONCURRENCY: String(C.workerConcurrency),
    },
    join(ctx.work, 'logs', 'floor-cost-worker.log'),
  );
  let floor: Record<string, unknown>;
  try {
    await L.waitFor(
      'floor worker',
      () => (readFileSync(fw.logFile, 'utf8').includes('ready') ? true : undefined),
      20_000,
      50,
    );
    const template = await ctx.mongo.db(st.db).collection('responses').findOne({});
    const fc = floorColl.db().collection('responses');
    const op = async (i: number) => {
      const id = newRespId();
      await fc.insertOne({ ...template, _id: new ObjectId(), responseId: id });
      await queue.add('run-response', { responseId: id, userId: C.userId, requestId: 'x' }, jobOptions(id));
      void i;
    };
    await L.runLoad({ concurrency: C.cost.concurrency, count: C.cost.warmup, op });
    await waitCompleted(ctx, prefix, C.cost.warmup, 30_000);
    await L.sleep(500);
    const before = snap();
    await ctx.redis.config('RESETSTAT');
    const polls = { n: 0 };
    await L.runLoad({ concurrency: C.cost.concurrency, count: C.cost.jobs, op });
    await waitCompleted(ctx, prefix, C.cost.warmup + C.cost.jobs, 60_000, polls);
    const stats = await commandStats(ctx.redis);
    const after = snap();
    const n = C.cost.jobs;
    const mongo = L.diffCounts(after.mongoFloor, before.mongoFloor);
    const ra = L.diffCounts(after.redisFloor, before.redisFloor);
    const rw = L.diffCounts(after.redisFloorWorker, before.redisFloorWorker);
    // The bench's own completion polls (ZCARD on a direct connection) are not the floor's work.
    const serverCmds = L.sumCounts(stats, (k) => k === 'info' || k.startsWith('config')) - polls.n;
    floor = {
      jobs: n,
      mongoPerJob: L.round(L.sumCounts(mongo, MONITORING) / n, 2),
      mongoByCommand: perJob(mongo, n),
      redisRequestsPerJob: L.round((L.sumCounts(ra) + L.sumCounts(rw)) / n, 2),
      redisProducerByCommand: perJob(ra, n),
      redisWorkerByCommand: perJob(rw, n),
      serverCommandsPerJob: L.round(serverCmds / n, 2),
    };
  } finally {
    await closeQueue();
    await floorColl.close();
    await L.stopProcess(fw.child);
    for (const p of Object.values(proxies)) await p.close();
  }
  log(
    `   background job: MongoDB ${(background.mongo as { totalPerJob: number }).totalPerJob}/job, Redis ${(background.redis as { totalRequestsPerJob: number }).totalRequestsPerJob} requests/job`,
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

// ------------------------------------------------------------------------ report

interface Row {
  measurement: string;
  ours: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean | null;
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
const pctStr = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(v < 0.1 ? 1 : 0)}%` : 'n/a');

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const redisVersion = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? 'unknown';
  const git =
    spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() || 'unknown';
  let peerVersion = 'not installed';
  try {
    peerVersion = (
      JSON.parse(readFileSync(join(PEER, 'node_modules', '@portkey-ai', 'gateway', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    // not installed
  }
  return {
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    cores: os.cpus().length,
    ramGiB: L.round(Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0) / 1024 / 1024, 1),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    redis: redisVersion,
    gitCommit: git,
    portkeyGateway: peerVersion,
  };
}

function buildRows(r: Results): Row[] {
  const rows: Row[] = [];
  if (r.enqueue) {
    for (const [c, v] of Object.entries(r.enqueue)) {
      const ratio = v.ours.rps / v.floor.rps;
      rows.push({
        measurement: `1. Enqueue POST /v1/responses background, ${c}`,
        ours: `${f1(v.ours.rps)} req/s (p50 ${f2(v.ours.latency.p50)} / p99 ${f2(v.ours.latency.p99)} ms)`,
        baseline: `floor ${f1(v.floor.rps)} ops/s (p50 ${f2(v.floor.latency.p50)} / p99 ${f2(v.floor.latency.p99)} ms)`,
        ratio: pctStr(ratio),
        target: '>= 70% of floor',
        met: v.ours.errors === 0 && ratio >= 0.7,
      });
    }
  }
  if (r.e2e) {
    for (const [w, v] of Object.entries(r.e2e.runs)) {
      rows.push({
        measurement: `2. End to end POST -> completed, ${w.slice(1)} worker(s)`,
        ours: `${f1(v.ours.jobsPerSec)} jobs/s (${v.ours.jobs}${v.ours.partial ? ` of ${v.ours.posted} jobs done by the ${C.e2e.capMs / 1000} s cap` : ' jobs'})`,
        baseline: `floor ${f1(v.floor.jobsPerSec)} jobs/s (${v.floor.jobs} jobs)`,
        ratio: pctStr(v.ours.jobsPerSec / v.floor.jobsPerSec),
        target: '(reported)',
        met: null,
      });
    }
  }
  if (r.sync) {
    for (const [c, v] of Object.entries(r.sync)) {
      for (const p of ['p50', 'p99'] as const) {
        const ours = v.ours[p] - v.direct[p];
        const peer = v.peer ? v.peer[p] - v.direct[p] : NaN;
        rows.push({
          measurement: `3. Sync chat overhead ${p}, ${c} (direct ${f2(v.direct[p])} ms)`,
          ours: `${f2(ours)} ms (total ${f2(v.ours[p])}, n=${v.ours.n})`,
          baseline: v.peer ? `Portkey ${f2(peer)} ms (total ${f2(v.peer[p])}, n=${v.peer.n})` : `Portkey n/a`,
          ratio: v.peer ? `${f2(ours / peer)}x` : 'n/a',
          target: p === 'p50' ? '<= peer overhead' : '(reported)',
          met: p === 'p50' ? (v.peer ? v.ours.errors === 0 && ours <= peer : null) : null,
        });
      }
    }
  }
  if (r.stream) {
    for (const [kind, v] of Object.entries(r.stream)) {
      const ttft = v.ours.ttft.p50 - v.direct.ttft.p50;
      const ttft99 = v.ours.ttft.p99 - v.direct.ttft.p99;
      const peer = v.peer ? v.peer.ttft.p50 - v.direct.ttft.p50 : NaN;
      rows.push({
        measurement: `4. Stream ${kind} first-token overhead p50 (direct ${f2(v.direct.ttft.p50)} ms)`,
        ours: `${f2(ttft)} ms (p99 ${f2(ttft99)}, n=${v.ours.n})`,
        baseline: v.peer ? `Portkey ${f2(peer)} ms (p99 ${f2(v.peer.ttft.p99 - v.direct.ttft.p99)})` : 'Portkey n/a',
        ratio: v.peer ? `${f2(ttft / peer)}x` : 'n/a',
        target: kind === 'responses' ? '< 5 ms' : '(reported)',
        met: kind === 'responses' ? v.ours.errors === 0 && ttft < 5 : null,
      });
      rows.push({
        measurement: `4. Stream ${kind} inter-token overhead, mean (direct ${f2(v.direct.gapMean)} ms)`,
        ours: `${f2(v.ours.gapMean - v.direct.gapMean)} ms (gap p99 ${f2(v.ours.gap.p99)} vs ${f2(v.direct.gap.p99)})`,
        baseline: v.peer
          ? `Portkey ${f2(v.peer.gapMean - v.direct.gapMean)} ms (gap p99 ${f2(v.peer.gap.p99)})`
          : 'Portkey n/a',
        ratio: '',
        target: '(reported)',
        met: null,
      });
    }
  }
  if (r.memory) {
    const q = r.memory.queued;
    const at = (label: string) => q.find((x) => x.label === label);
    const five = at(`${C.memQueued.checkpoints[0]} queued`);
    const ten = at(`${C.memQueued.checkpoints[1]} queued`);
    const cold = q[0];
    const pk = r.memory.peaks;
    const k = (n: number) => `${n / 1000}k`;
    if (five && ten && pk?.apiFirst) {
      const ratio = pk.apiSecond / pk.apiFirst;
      rows.push({
        measurement: `5. api RSS at 0 (cold) / ${k(C.memQueued.checkpoints[0])} / ${k(C.memQueued.checkpoints[1])} queued jobs`,
        ours: `${f1(cold.apiMb)} / ${f1(five.apiMb)} / ${f1(ten.apiMb)} MiB (${ten.queued} queued)`,
        baseline: `peak while queueing ${k(pk.windows.first[0])}-${k(pk.windows.first[1])}: ${f1(pk.apiFirst)} MiB, ${k(pk.windows.second[0])}-${k(pk.windows.second[1])}: ${f1(pk.apiSecond)} MiB`,
        ratio: `${f2(ratio)}x`,
        target: 'flat: 2nd peak <= 1.10 x 1st',
        met: ratio <= 1.1,
      });
      rows.push({
        measurement: `5. worker RSS at 0 (cold) / ${k(C.memQueued.checkpoints[0])} / ${k(C.memQueued.checkpoints[1])} queued jobs`,
        ours: `${f1(cold.workerMb)} / ${f1(five.workerMb)} / ${f1(ten.workerMb)} MiB`,
        baseline: `peaks ${f1(pk.workerFirst)} / ${f1(pk.workerSecond)} MiB`,
        ratio: `${f2(pk.workerSecond / pk.workerFirst)}x`,
        target: '(reported)',
        met: null,
      });
    }
    const gcs = r.memory.fullGcs ?? [];
    if (gcs.length > 0) {
      rows.push({
        measurement: '5. api live JS heap after each full GC while queueing',
        ours: `${gcs.map((g) => f1(g.liveMb)).join(' -> ')} MB (at ${gcs.map((g) => k(Math.round(g.posted / 100) * 100)).join(', ')} posted)`,
        baseline: `heap between full GCs up to ${f1(Math.max(...gcs.map((g) => g.heapMb)))} MB`,
        ratio: `${f2(gcs.at(-1)!.liveMb / gcs[0].liveMb)}x`,
        target: '(diagnostic: leak = rising)',
        met: null,
      });
    }
    const s = r.memory.streams as {
      streams: number;
      idle: { apiMb: number; workerMb: number };
      during: { apiMb: number; workerMb: number; open: number; workerActiveJobs: number };
      apiKbPerStream: number;
      workerKbPerActiveStream: number | null;
    };
    if (s?.during) {
      rows.push({
        measurement: `5. api RSS with ${s.during.open} open streams`,
        ours: `${f1(s.during.apiMb)} MiB (${f1(s.apiKbPerStream)} KiB/stream)`,
        baseline: `idle ${f1(s.idle.apiMb)} MiB`,
        ratio: `${f2(s.during.apiMb / s.idle.apiMb)}x`,
        target: '(reported)',
        met: null,
      });
      rows.push({
        measurement: `5. worker RSS, ${s.during.workerActiveJobs} of the streams' jobs taken`,
        ours: `${f1(s.during.workerMb)} MiB (${s.workerKbPerActiveStream === null ? 'n/a' : f1(s.workerKbPerActiveStream)} KiB/job)`,
        baseline: `idle ${f1(s.idle.workerMb)} MiB`,
        ratio: `${f2(s.during.workerMb / s.idle.workerMb)}x`,
        target: '(reported)',
        met: null,
      });
    }
  }
  if (r.mongoServer) {
    const m = r.mongoServer;
    rows.push({
      measurement: `0. MongoDB wire server: ping / findOne by owner+id @${m.smallDocs} / @${m.largeDocs} docs, p50`,
      ours: `${f2(m.ping.p50)} / ${f2(m.findOneSmall.p50)} / ${f2(m.findOneLarge.p50)} ms`,
      baseline: `findOne by _id @${m.largeDocs} docs: ${f2(m.findOneByIdLarge.p50)} ms`,
      ratio: '',
      target: '(context)',
      met: null,
    });
  }
  if (r.cost) {
    const b = r.cost.background;
    rows.push({
      measurement: '6. MongoDB round trips per background job',
      ours: `${f2(b.mongo.totalPerJob)} (api ${f2(b.mongo.apiPerJob)} + worker ${f2(b.mongo.workerPerJob)})`,
      baseline: `floor ${f2(r.cost.floor.mongoPerJob)} (bare insertOne)`,
      ratio: `${f2(b.mongo.totalPerJob / r.cost.floor.mongoPerJob)}x`,
      target: '<= 3',
      met: b.mongo.totalPerJob <= 3,
    });
    rows.push({
      measurement: '6. Redis requests per background job',
      ours: `${f2(b.redis.totalRequestsPerJob)} (api ${f2(b.redis.apiRequestsPerJob)} + worker ${f2(b.redis.workerRequestsPerJob)}); server cmds ${f2(b.redis.serverCommandsPerJob)}`,
      baseline: `floor ${f2(r.cost.floor.redisRequestsPerJob)}; server cmds ${f2(r.cost.floor.serverCommandsPerJob)}`,
      ratio: `${f2(b.redis.totalRequestsPerJob / r.cost.floor.redisRequestsPerJob)}x`,
      target: '(reported)',
      met: null,
    });
    rows.push({
      measurement: '6. MongoDB round trips per sync chat (store:false)',
      ours: `${f2(r.cost.sync.mongoPerCall)} (Redis ${f2(r.cost.sync.redisRequestsPerCall)} requests)`,
      baseline: '',
      ratio: '',
      target: '(reported)',
      met: null,
    });
  }
  return rows;
}

const metStr = (m: boolean | null) => (m === null ? '-' : m ? 'yes' : 'NO');

function textTable(rows: Row[]): string {
  const head = ['measurement', 'ours', 'baseline / peer', 'ratio', 'target', 'met?'];
  const cells = rows.map((r) => [r.measurement, r.ours, r.baseline, r.ratio, r.target, metStr(r.met)]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(w[i])).join(' | ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('-+-'), ...cells.map(line)].join('\n');
}

function mdTable(rows: Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| measurement | ours | baseline / peer | ratio | target | met? |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) => `| ${[r.measurement, r.ours, r.baseline, r.ratio, r.target, metStr(r.met)].map(esc).join(' | ')} |`,
    ),
  ].join('\n');
}

interface Results {
  enqueue?: Awaited<ReturnType<typeof phaseEnqueue>>;
  e2e?: Awaited<ReturnType<typeof phaseE2E>>;
  sync?: Awaited<ReturnType<typeof phaseSync>>;
  stream?: Awaited<ReturnType<typeof phaseStream>>;
  memory?: Awaited<ReturnType<typeof phaseMemory>>;
  cost?: Awaited<ReturnType<typeof phaseCost>>;
  mongoServer?: Awaited<ReturnType<typeof phaseMongoServer>>;
}

const METHOD = `How it was measured (all in one run, on this machine, loopback only):
- Services: a dedicated redis-server and the MongoDB wire server from provisionServices() (MONGODB_URI if set, else mongod on PATH, else FerretDB with SQLite), their files on /dev/shm, the mock upstream (dist-tools/mock-upstream) as its own process, the built api and worker(s) as separate processes (LOG_LEVEL=warn, WORKER_CONCURRENCY=${C.workerConcurrency} unless noted), each stack with its own database and QUEUE_PREFIX.
- 1 Enqueue: POST /v1/responses {background:true} over keep-alive HTTP (undici), ${C.enqueue.rounds} alternating rounds of ${C.enqueue.roundMs / 1000} s per side and concurrency, no worker running. Floor: in the bench process, MongoDB driver insertOne of a copy of a document the api stored (same shape and indexes) followed by a bare BullMQ queue.add with the api's job options, same Redis and MongoDB server. Latency is per request (ours: HTTP round trip).
- 2 End to end: ${C.e2e.jobs} background jobs posted at concurrency ${C.e2e.concurrency} after ${C.e2e.warmup} warm-up jobs, timed from the first POST until BullMQ's completed set holds all of them, or capped at ${C.e2e.capMs / 1000} s (then: jobs completed by the cap / time of the last completion); records verified completed in MongoDB; mock latency 0. Floor: ${C.e2e.floorJobs} bare queue.add calls and a no-op processor in as many separate worker processes with the same concurrency.
- 3 Sync overhead: POST /v1/chat/completions (non-stream) latency minus the same request sent straight to the mock, percentile minus percentile; rotated time-bounded rounds per target (c1: ${C.sync.rounds[1]} x ${C.sync.roundMs[1] / 1000} s, c64: ${C.sync.rounds[64]} x ${C.sync.roundMs[64] / 1000} s; requests in flight at the end of a round still count). Peer: Portkey's gateway (@portkey-ai/gateway, bench/peer) with x-portkey-provider: openai and x-portkey-custom-host pointing at the same mock.
- 4 Streaming: sequential stream:true requests, mock pacing ${C.stream.tokens} tokens x ${C.stream.tokenDelayMs} ms; time to first token = request sent -> first token event received; inter-token = gaps between token events, mean, ours minus direct.
- 5 Memory: VmRSS from /proc/<pid>/status: checkpoints are the median of 5 samples over 1 s after 1 s idle; RSS is also sampled every 200 ms while queueing, and "flat" compares the peak over the last ${C.memQueued.checkpoints[0] / 2} jobs before ${C.memQueued.checkpoints[1]} with the peak over the ${C.memQueued.checkpoints[0] / 2} before ${C.memQueued.checkpoints[0]} (RSS follows garbage collection up and down, so single samples are noisy); the api of this stack runs with node --trace-gc, and the live heap after each full (mark-compact) collection is read from its log. Queued: mock latency 10 min, worker concurrency ${C.memQueued.workerConcurrency}, so all but ${C.memQueued.workerConcurrency} jobs wait in Redis. Streams: ${C.memStreams.streams} concurrent synchronous streamed responses (open = first event received), mock pacing ${C.memStreams.tokens} x ${C.memStreams.tokenDelayMs} ms, sampled ${C.memStreams.settleMs / 1000} s after all were open; the worker runs those it has claimed by then.
- 6 Cost: counting TCP proxies between each process and the servers; MongoDB wire messages (OP_MSG named by command; hello/isMaster monitoring excluded) and RESP commands sent by the client, per job, over ${C.cost.jobs} background jobs after warm-up; "server cmds" is the INFO commandstats delta (includes commands run inside Lua scripts). Floor: the same proxies around insertOne + queue.add + a no-op worker.
- 0 Context: every figure of ours includes the MongoDB wire server's own latency; row 0 gives it (a record looked up by owner and id, as the worker's claim and final write do). FerretDB 1.x with SQLite does not use the (userId, responseId) index for these lookups, so their cost grows with the collection; production MongoDB does use it.
- Peer notes (read in its package): Portkey 1.15.2 holds the first event of every stream for 25 ms before forwarding it (build/start-server.js), so its first-token overhead has that floor. Its @hono/node-server is held at 1.14.1 (bench/peer/package.json): from 1.14.2 on, its streaming path fails with "TypeError: immutable".`;

/** Prints the table and writes bench/results/latest.json and bench/RESULTS.md. */
function writeReport({
  results,
  errors,
  ctx,
  work,
}: {
  results: Results;
  errors: string[];
  ctx: Ctx | null;
  work: string;
}): void {
  const rows = buildRows(results);
  const seconds = L.round((Date.now() - t0) / 1000, 1);
  const date = new Date().toISOString();
  const info = machine();
  const table = textTable(rows);
  process.stdout.write(`\n${table}\n\n`);
  const metCount = rows.filter((r) => r.met === true).length;
  const missCount = rows.filter((r) => r.met === false).length;
  process.stdout.write(`targets met: ${metCount}, missed: ${missCount}; total run time ${seconds} s\n`);
  if (ctx?.peerError) process.stdout.write(`peer: ${ctx.peerError}\n`);
  if (errors.length) process.stdout.write(`errors:\n${errors.map((e) => `  - ${e.split('\n')[0]}`).join('\n')}\n`);

  mkdirSync(join(BENCH, 'results'), { recursive: true });
  const json = {
    date,
    seconds,
    machine: info,
    services: ctx
      ? {
          redis: 'redis-server (dedicated, started by the bench)',
          mongo: ctx.mongoKind,
          peer: ctx.peerUrl ? `@portkey-ai/gateway ${info.portkeyGateway}` : ctx.peerError,
        }
      : null,
    config: C,
    table: rows,
    results,
    errors,
  };
  writeFileSync(join(BENCH, 'results', 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  const md = [
    '# Benchmark results (`npm run bench`)',
    '',
    `Date: ${date} — total run time ${seconds} s — commit ${info.gitCommit}`,
    '',
    `Machine: ${info.cpu}, ${info.cores} cores, ${info.ramGiB} GiB RAM, Node ${info.node}, ${info.os}; ${info.redis.split(' ').slice(0, 3).join(' ')}; MongoDB wire server: ${ctx?.mongoKind ?? 'n/a'}; peer: Portkey gateway ${info.portkeyGateway}.`,
    '',
    mdTable(rows),
    '',
    `Targets met: ${metCount}, missed: ${missCount}.${errors.length ? ` Errors: ${errors.map((e) => e.split('\n')[0]).join('; ')}` : ''}`,
    '',
    METHOD,
    '',
    'Raw figures (every percentile, per-command counts): `bench/results/latest.json`.',
    '',
  ].join('\n');
  writeFileSync(join(BENCH, 'RESULTS.md'), md);
  if (errors.length) process.stdout.write(`logs kept in ${work}/logs\n`);
}

async function main(): Promise<void> {
  let ctx: Ctx | null = null;
  let servicesDir: string | null = null;
  let current = 'setup';
  const work = mkdtempSync(join(os.tmpdir(), 'djq-bench-'));
  mkdirSync(join(work, 'logs'), { recursive: true });
  const results: Results = {};
  const errors: string[] = [];
  // Past the budget: report what was measured, stop everything, exit.
  const watchdog = setTimeout(() => {
    log(
      `time budget of ${C.budgetMs / 60_000} minutes exceeded during ${current}: reporting what was measured and stopping`,
    );
    errors.push(`time budget of ${C.budgetMs / 60_000} minutes exceeded during ${current}; later phases were not run`);
    try {
      writeReport({ results, errors, ctx, work });
    } finally {
      void L.stopAll().finally(() => {
        if (servicesDir) rmSync(servicesDir, { recursive: true, force: true });
        process.exit(3);
      });
    }
  }, C.budgetMs);
  try {
    ensureBuild();
    const peerInstallError = ensurePeer();

    // A dedicated Redis for this run (INFO commandstats must see only our traffic). MongoDB:
    // MONGODB_URI when given (e.g. a real mongod), else provisionServices starts one.
    delete process.env.REDIS_URL;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const services = require(join(ROOT, 'dist-tools', 'dev', 'services.js')) as {
      provisionServices(o: {
        log?: (l: string) => void;
        dataDir?: string;
      }): Promise<{ redisUrl: string; mongoUri: string; mongoKind: string; pids: number[] }>;
    };
    // Server files on tmpfs when there is one: the same for every side, and no disk noise.
    servicesDir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/djq-bench-') : join(work, 'services');
    const prov = await services.provisionServices({ log: (l) => log(l), dataDir: servicesDir });
    prov.pids.forEach(L.adoptPid);

    const mockPort = await freePort();
    L.launch(
      'mock',
      process.execPath,
      [join(ROOT, 'dist-tools', 'mock-upstream', 'main.js')],
      { PATH: process.env.PATH ?? '', MOCK_PORT: String(mockPort), MOCK_HOST: '127.0.0.1' },
      join(work, 'logs', 'mock.log'),
    );
    const mockUrl = `http://127.0.0.1:${mockPort}`;
    await waitHttp(`${mockUrl}/__mock/requests`, 15_000, (s) => s === 200);

    let peerUrl: string | null = null;
    let peerError = peerInstallError;
    if (!peerError) {
      const port = await freePort();
      L.launch(
        'portkey',
        process.execPath,
        [join(PEER, 'start-portkey.mjs'), `--port=${port}`, '--headless'],
        { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir() },
        join(work, 'logs', 'portkey.log'),
      );
      try {
        await waitHttp(`http://127.0.0.1:${port}/`, 30_000);
        peerUrl = `http://127.0.0.1:${port}`;
      } catch (err) {
        peerError = `Portkey did not start: ${(err as Error).message}`;
      }
    }

    ctx = {
      work,
      redisUrl: prov.redisUrl,
      mongoUri: prov.mongoUri,
      mongoKind: prov.mongoKind,
      mockUrl,
      peerUrl,
      peerError,
      redis: new Redis(prov.redisUrl, { maxRetriesPerRequest: null }).on('error', () => undefined),
      mongo: await new MongoClient(prov.mongoUri, { serverSelectionTimeoutMS: 10_000 }).connect(),
    };
    if (peerUrl) {
      try {
        await chatOnce({ name: 'peer', pool: new Pool(peerUrl), headers: peerHeaders(ctx) });
      } catch (err) {
        ctx.peerError = `Portkey does not proxy to the mock: ${(err as Error).message}`;
        ctx.peerUrl = null;
      }
    }
    if (ctx.peerError) log(`peer unavailable: ${ctx.peerError}`);
    log(
      `services: redis ${ctx.redisUrl}, MongoDB (${ctx.mongoKind}) ${ctx.mongoUri}, mock ${mockUrl}, Portkey ${ctx.peerUrl ?? 'n/a'}`,
    );

    const c = ctx;
    const phase = async <K extends keyof Results>(key: K, fn: () => Promise<Results[K]>) => {
      current = key;
      try {
        results[key] = await fn();
      } catch (err) {
        errors.push(`${key}: ${(err as Error).stack ?? String(err)}`);
        log(`phase ${key} failed: ${(err as Error).message}`);
      }
    };
    await phase('enqueue', () => phaseEnqueue(c));
    await phase('e2e', () => phaseE2E(c));
    if (results.e2e?.dbs?.[0]) await phase('mongoServer', () => phaseMongoServer(c, results.e2e!.dbs![0]));
    const fixed = fixedTargets(c);
    await phase('sync', () => phaseSync(c, fixed));
    await phase('stream', () => phaseStream(c, fixed));
    for (const t of fixed) await t.pool.close().catch(() => undefined);
    await phase('memory', () => phaseMemory(c));
    await phase('cost', () => phaseCost(c));
  } catch (err) {
    errors.push(`setup: ${(err as Error).stack ?? String(err)}`);
    log(`setup failed: ${(err as Error).message}`);
  } finally {
    await ctx?.redis.quit().catch(() => undefined);
    await ctx?.mongo.close().catch(() => undefined);
    await L.stopAll();
    if (servicesDir) rmSync(servicesDir, { recursive: true, force: true });
    clearTimeout(watchdog);
  }

  writeReport({ results, errors, ctx, work });
  if (errors.length === 0) rmSync(work, { recursive: true, force: true });
  // Everything started is stopped; leftover keep-alive sockets must not hold the process open.
  process.exit(errors.length ? 1 : 0);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    log(`${sig}: stopping everything`);
    void L.stopAll().finally(() => process.exit(130));
  });
}

main().catch((err) => {
  log(`bench failed: ${(err as Error).stack ?? String(err)}`);
  void L.stopAll().finally(() => process.exit(1));
});
