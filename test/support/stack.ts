/**
 * The one stack starter: the built api and worker as separate processes against a Redis and a MongoDB wire server,
 * each stack with its own database and queue prefix. The e2e tests, the fault scenarios and the bench all start their
 * stacks here. No jest here: the bench compiles this file too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import OpenAI from 'openai';
import { callQueue, DEFAULT_ROUTE } from '../../src/infra/jobs';
import { freePort, mongoUriFor, ROOT } from '../../tools/dev/services';
import { testServices, uniqueName } from './env';
import { waitFor } from './wait';

const DIST = join(ROOT, 'dist');

export const KEYS = { alice: 'sk-test-alice-0001', bob: 'sk-test-bob-0002', carol: 'sk-test-carol-0003' } as const;
export const UPSTREAM_KEY = 'sk-upstream-secret-0003';

/** What every test stack runs with unless a test says otherwise (StackOptions.env) or brings its own (baseEnv). */
export const TEST_ENV: Readonly<Record<string, string>> = {
  UPSTREAM_API_KEY: UPSTREAM_KEY,
  API_KEYS: `${KEYS.alice}:alice,${KEYS.bob}:bob,${KEYS.carol}:carol`,
  WORKER_CONCURRENCY: '8',
  JOB_ATTEMPTS: '3',
  RETRY_BASE_MS: '50',
  CANCEL_POLL_MS: '1000',
  // Limits are the subject of their own tests; elsewhere they stay out of the way.
  RATE_LIMIT_RPM: '100000',
  RATE_LIMIT_CONCURRENCY: '10000',
  LOG_LEVEL: 'info',
};

export interface Stack {
  apiUrls: string[];
  apis: ChildProcess[];
  /** The environment the processes got (store URLs, prefix), for tools run against the stack. */
  env: Record<string, string>;
  /** The stack's QUEUE_PREFIX and database name. */
  prefix: string;
  database: string;
  /** The log file of each api and each worker, by index. */
  apiLogFiles: string[];
  workerLogFiles: string[];
  client(key: string, api?: number, options?: Partial<ConstructorParameters<typeof OpenAI>[0]>): OpenAI;
  workers: ChildProcess[];
  /** The operations port of each worker (WORKER_HTTP_PORT: /metrics, /health/live, /health/ready), by index. */
  workerUrls: string[];
  /** SIGKILL a worker (no cleanup), as a crash would. */
  killWorker(i: number): void;
  /** Starts one more worker process (with extra environment); resolves when it is ready. */
  addWorker(extraEnv?: Record<string, string>): Promise<ChildProcess>;
  /** The log text of every process so far. */
  logText(): string;
  logs(): string;
  stop(): Promise<void>;
}

/** Store URLs for one role. */
export interface Stores {
  redisUrl?: string;
  mongoUri?: string;
}

export interface StackOptions {
  apis?: number;
  workers?: number;
  upstreamUrl: string;
  /** Store URLs other than the test services' (fault tests and the bench bring their own). */
  redisUrl?: string;
  /**
   * REDIS_CLUSTER_NODES of a Redis Cluster to run on instead of a single Redis; by default the test services' cluster
   * when the run has one (TEST_REDIS=cluster), unless a redisUrl is given.
   */
  redisClusterNodes?: string;
  mongoUri?: string;
  env?: Record<string, string>;
  /** Extra environment per api replica, by index. */
  apiEnv?: Record<string, string>[];
  /** The environment every process starts from, under `env`: TEST_ENV unless given (the bench has its own). */
  baseEnv?: Record<string, string>;
  /**
   * Store URLs the api processes or the workers use instead of redisUrl/mongoUri (the bench's counting proxies);
   * the stack itself watches the direct ones.
   */
  apiStores?: Stores;
  workerStores?: Stores;
  /** QUEUE_PREFIX and database name; unique names by default. */
  queuePrefix?: string;
  database?: string;
  /** Node flags for the api processes (a diagnostic flag such as --trace-gc; the app itself is unchanged). */
  apiNodeFlags?: string[];
  /** Where the process logs go; a new temp folder by default. */
  logDir?: string;
  /**
   * How long each process may take to be ready (api: /health/ready finds the stores, before any worker runs; worker:
   * it listens). Default 20 s.
   */
  readyTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. Default 5 s. */
  stopGraceMs?: number;
  /** Called with every process started (the bench ends them all when it exits, whatever happens). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Levels at which the worker logs "worker ready"; below them readiness is read from BullMQ's worker list. */
const LOGS_READY = ['info', 'debug', 'trace'];

/** Requires `npm run build` (npm test does it; the bench builds when dist/ is stale). */
export async function startStack(opts: StackOptions): Promise<Stack> {
  if (!existsSync(join(DIST, 'main-api.js')))
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const services =
    opts.redisUrl && opts.mongoUri ? { redisUrl: opts.redisUrl, mongoUri: opts.mongoUri } : testServices();
  const redisUrl = opts.redisUrl ?? services.redisUrl;
  const clusterNodes = opts.redisClusterNodes ?? (opts.redisUrl ? undefined : testClusterNodes());
  const mongoUri = opts.mongoUri ?? services.mongoUri;
  const prefix = opts.queuePrefix ?? uniqueName('t');
  const database = opts.database ?? uniqueName('t_');
  const logDir = opts.logDir ?? mkdtempSync(join(tmpdir(), 'djq-stack-'));
  const readyMs = opts.readyTimeoutMs ?? 20_000;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...(clusterNodes ? { REDIS_CLUSTER_NODES: clusterNodes } : { REDIS_URL: redisUrl }),
    MONGODB_URI: mongoUriFor(mongoUri, database),
    QUEUE_PREFIX: prefix,
    UPSTREAM_BASE_URL: opts.upstreamUrl,
    ...(opts.baseEnv ?? TEST_ENV),
    ...opts.env,
  };
  const storesEnv = (s: Stores | undefined): Record<string, string> => ({
    ...(s?.redisUrl ? { REDIS_URL: s.redisUrl } : {}),
    ...(s?.mongoUri ? { MONGODB_URI: mongoUriFor(s.mongoUri, database) } : {}),
  });
  const children: ChildProcess[] = [];
  const logFiles: string[] = [];
  const launch = (name: string, args: string[], extra: Record<string, string>) => {
    const file = join(logDir, `${name}.log`);
    logFiles.push(file);
    // The child writes its log itself: nothing passes through this process.
    const fd = openSync(file, 'a');
    const child = spawn(process.execPath, args, { env: { ...env, ...extra }, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    children.push(child);
    opts.onSpawn?.(child);
    return { child, file };
  };
  const logs = () =>
    logFiles.map((f) => `--- ${f}\n${existsSync(f) ? readFileSync(f, 'utf8').slice(-4000) : ''}`).join('\n');

  const apiUrls: string[] = [];
  const apis: ChildProcess[] = [];
  const apiLogFiles: string[] = [];
  const workers: ChildProcess[] = [];
  const workerUrls: string[] = [];
  const workerLogFiles: string[] = [];
  const addWorker = async (extra: Record<string, string> = {}) => {
    const i = workers.length;
    // Each worker's operations port is its own, so several workers (and stacks) run side by side.
    const opsPort = extra.WORKER_HTTP_PORT ?? env.WORKER_HTTP_PORT ?? String(await freePort());
    const workerEnv: Record<string, string> = { ...storesEnv(opts.workerStores), WORKER_HTTP_PORT: opsPort, ...extra };
    const level = workerEnv.LOG_LEVEL ?? env.LOG_LEVEL ?? 'info';
    // LOG_LEVEL=warn hides "worker ready": a worker is then ready once BullMQ lists its connection.
    const listed = LOGS_READY.includes(level) ? null : await listeningWorkers(env, prefix);
    try {
      const before = listed ? await listed.count() : 0;
      const { child, file } = launch(`worker${i}`, [join(DIST, 'main-worker.js')], workerEnv);
      const ready = listed
        ? async () => ((await listed.count()) > before ? true : undefined)
        : () => (readFileSync(file, 'utf8').includes('worker ready') ? true : undefined);
      await waitFor(`worker ${i} ready`, ready, readyMs, 100);
      workers.push(child);
      workerUrls.push(`http://127.0.0.1:${opsPort}`);
      workerLogFiles.push(file);
      return child;
    } finally {
      await listed?.close();
    }
  };
  try {
    for (let i = 0; i < (opts.apis ?? 1); i++) {
      const port = await freePort();
      const extra = { ...storesEnv(opts.apiStores), ...opts.apiEnv?.[i], PORT: String(port) };
      const { child, file } = launch(`api${i}`, [...(opts.apiNodeFlags ?? []), join(DIST, 'main-api.js')], extra);
      apis.push(child);
      apiLogFiles.push(file);
      const url = `http://127.0.0.1:${port}`;
      await waitFor(`api ${i} health`, () => healthy(url), readyMs, 100);
      apiUrls.push(url);
    }
    for (let i = 0; i < (opts.workers ?? 1); i++) await addWorker();
  } catch (err) {
    children.forEach((c) => c.kill('SIGKILL'));
    throw new Error(`${(err as Error).message}\n${logs()}`);
  }

  return {
    apiUrls,
    apis,
    env,
    prefix,
    database,
    apiLogFiles,
    workerLogFiles,
    workers,
    workerUrls,
    addWorker,
    logText: () => logFiles.map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : '')).join('\n'),
    client: (key, api = 0, options = {}) =>
      new OpenAI({ apiKey: key, baseURL: `${apiUrls[api]}/v1`, maxRetries: 0, timeout: 30_000, ...options }),
    killWorker: (i) => workers[i].kill('SIGKILL'),
    logs,
    stop: () => Promise.all(children.map((c) => stopProcess(c, opts.stopGraceMs ?? 5000))).then(() => undefined),
  };
}

/** The api answers and finds its stores; the workers start after it, so a missing heartbeat does not count here. */
async function healthy(url: string): Promise<true | undefined> {
  const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3000) });
  const body = (await res.json().catch(() => ({}))) as { checks?: Record<string, { status?: string }> };
  if (res.ok) return true;
  const stores = body.checks?.redis?.status === 'ok' && body.checks?.mongodb?.status === 'ok';
  return res.status === 503 && stores ? true : undefined;
}

/** The test services' Redis Cluster, when the run has one (TEST_REDIS=cluster; see globalSetup). */
export function testClusterNodes(): string | undefined {
  return process.env.TEST_REDIS_CLUSTER_NODES || undefined;
}

/** A client of a stack's Redis (a single one or a cluster), as its processes connect: for checks made from outside. */
export function redisOf(env: Record<string, string>, maxRetriesPerRequest: number | null = null): Redis | Cluster {
  const nodes = env.REDIS_CLUSTER_NODES;
  if (!nodes) return new Redis(env.REDIS_URL, { maxRetriesPerRequest });
  const seeds = nodes
    .split(',')
    .map((n) => ({ host: n.slice(0, n.lastIndexOf(':')), port: Number(n.slice(n.lastIndexOf(':') + 1)) }));
  return new Cluster(seeds, {
    redisOptions: { maxRetriesPerRequest },
    enableReadyCheck: false,
    retryDelayOnClusterDown: 300,
  });
}

/** BullMQ's prefix of a stack: hash-tagged on a cluster, as the app makes it. */
export function bullmqPrefixOf(env: Record<string, string>): string {
  return env.REDIS_CLUSTER_NODES ? `{${env.QUEUE_PREFIX}}` : env.QUEUE_PREFIX;
}

/** How many workers BullMQ lists on the stack's default call queue (each worker process listens there). */
async function listeningWorkers(env: Record<string, string>, prefix: string) {
  const connection = redisOf(env);
  connection.on('error', () => undefined); // failures surface as rejected commands
  const queue = new Queue(callQueue(DEFAULT_ROUTE), {
    prefix: env.REDIS_CLUSTER_NODES ? `{${prefix}}` : prefix,
    connection,
  });
  return {
    count: () => queue.getWorkersCount(),
    close: async () => {
      await queue.close().catch(() => undefined);
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone (at the latest 2 s after SIGKILL). */
export function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const hard = setTimeout(resolve, graceMs + 2000);
    child.once('exit', () => {
      clearTimeout(kill);
      clearTimeout(hard);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
