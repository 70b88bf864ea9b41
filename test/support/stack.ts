import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { freePort } from '../../tools/dev/services';
import { mongoUriFor, testServices, uniqueName, waitFor } from './env';

const DIST = resolve(__dirname, '..', '..', 'dist');

export const KEYS = { alice: 'sk-test-alice-0001', bob: 'sk-test-bob-0002', carol: 'sk-test-carol-0003' } as const;
export const UPSTREAM_KEY = 'sk-upstream-secret-0003';

export interface Stack {
  apiUrls: string[];
  apis: ChildProcess[];
  /** The environment the processes got (store URLs, prefix), for tools run against the stack. */
  env: Record<string, string>;
  client(key: string, api?: number, options?: Partial<ConstructorParameters<typeof OpenAI>[0]>): OpenAI;
  workers: ChildProcess[];
  /** SIGKILL a worker (no cleanup), as a crash would. */
  killWorker(i: number): void;
  /** Starts one more worker process (with extra environment); resolves when it is ready. */
  addWorker(extraEnv?: Record<string, string>): Promise<ChildProcess>;
  /** The log text of every process so far. */
  logText(): string;
  logs(): string;
  stop(): Promise<void>;
}

export interface StackOptions {
  apis?: number;
  workers?: number;
  upstreamUrl: string;
  /** Store URLs other than the test services' (fault tests bring their own). */
  redisUrl?: string;
  mongoUri?: string;
  env?: Record<string, string>;
  /** Extra environment per api replica, by index. */
  apiEnv?: Record<string, string>[];
}

/**
 * Runs the built api and worker as separate processes against the test Redis and MongoDB, each
 * stack with its own database and queue prefix. Requires `npm run build` (npm test does it).
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  if (!existsSync(join(DIST, 'main-api.js')))
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const services =
    opts.redisUrl && opts.mongoUri ? { redisUrl: opts.redisUrl, mongoUri: opts.mongoUri } : testServices();
  const redisUrl = opts.redisUrl ?? services.redisUrl;
  const mongoUri = opts.mongoUri ?? services.mongoUri;
  const logDir = mkdtempSync(join(tmpdir(), 'djq-stack-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    REDIS_URL: redisUrl,
    MONGODB_URI: mongoUriFor(mongoUri, uniqueName('t_')),
    QUEUE_PREFIX: uniqueName('t'),
    UPSTREAM_BASE_URL: opts.upstreamUrl,
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
    ...opts.env,
  };
  const children: ChildProcess[] = [];
  const logFiles: string[] = [];
  const launch = (name: string, script: string, extra: Record<string, string>) => {
    const file = join(logDir, `${name}.log`);
    logFiles.push(file);
    const out = createWriteStream(file);
    const child = spawn(process.execPath, [join(DIST, script)], {
      env: { ...env, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    children.push(child);
    return child;
  };
  const logs = () =>
    logFiles.map((f) => `--- ${f}\n${existsSync(f) ? readFileSync(f, 'utf8').slice(-4000) : ''}`).join('\n');

  const apiUrls: string[] = [];
  const apis: ChildProcess[] = [];
  const workers: ChildProcess[] = [];
  const addWorker = async (extra: Record<string, string> = {}) => {
    const i = workers.length;
    const child = launch(`worker${i}`, 'main-worker.js', extra);
    const file = logFiles[logFiles.length - 1];
    await waitFor(
      `worker ${i} ready`,
      () => (readFileSync(file, 'utf8').includes('worker ready') ? true : undefined),
      20_000,
      100,
    );
    workers.push(child);
    return child;
  };
  try {
    for (let i = 0; i < (opts.apis ?? 1); i++) {
      const port = await freePort();
      apis.push(launch(`api${i}`, 'main-api.js', { ...opts.apiEnv?.[i], PORT: String(port) }));
      const url = `http://127.0.0.1:${port}`;
      await waitFor(`api ${i} health`, async () => ((await fetch(`${url}/health`)).ok ? true : undefined), 20_000, 100);
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
    workers,
    addWorker,
    logText: () => logFiles.map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : '')).join('\n'),
    client: (key, api = 0, options = {}) =>
      new OpenAI({ apiKey: key, baseURL: `${apiUrls[api]}/v1`, maxRetries: 0, timeout: 30_000, ...options }),
    killWorker: (i) => workers[i].kill('SIGKILL'),
    logs,
    stop: async () => {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((res) => {
              if (c.exitCode !== null || c.signalCode !== null) return res();
              const t = setTimeout(() => c.kill('SIGKILL'), 5000);
              c.once('exit', () => {
                clearTimeout(t);
                res();
              });
              c.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
