/**
 * The bench's setup: builds what is stale (the app in dist/, the mock upstream and services in dist-tools/), installs
 * the peer gateway in its own folder, then starts the run's services: a dedicated Redis and the MongoDB wire server
 * (provisionServices), the mock upstream and Portkey, each as its own process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { Pool } from 'undici';
import { freePort, provisionServices } from '../tools/dev/services';
import { DIST, log, PEER, PEER_ENTRY, ROOT } from './config';
import { chatOnce, type Ctx, peerHeaders } from './context';
import * as L from './lib';

function newestMtime(dir: string, keep: (f: string) => boolean): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, keep));
    else if (keep(p)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const typescript = (f: string) => f.endsWith('.ts') && !f.endsWith('.spec.ts');

/** Runs `npm run <script>` when one of `outputs` is missing or older than the newest of `sources`. */
function buildIfStale(script: string, what: string, outputs: string[], sources: number): void {
  if (outputs.every((f) => existsSync(f)) && Math.min(...outputs.map((f) => statSync(f).mtimeMs)) >= sources) {
    log(`${what} is up to date`);
    return;
  }
  log(`${what} is missing or stale: npm run ${script}`);
  const r = spawnSync('npm', ['run', script], { cwd: ROOT, stdio: 'inherit', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`npm run ${script} failed (${r.error?.message ?? `exit ${r.status}`})`);
}

/**
 * Builds the app when dist/ is missing or older than src/ (or the build config), and the tools (the mock upstream the
 * bench runs as a process) when dist-tools/ is missing or older than tools/.
 */
export function ensureBuild(): void {
  const config = (...files: string[]) => files.map((f) => statSync(join(ROOT, f)).mtimeMs);
  buildIfStale(
    'build',
    'dist/',
    ['main-api.js', 'main-worker.js'].map((f) => join(DIST, f)),
    Math.max(
      newestMtime(join(ROOT, 'src'), typescript),
      ...config('tsconfig.json', 'tsconfig.build.json', 'package.json'),
    ),
  );
  buildIfStale(
    'build:tools',
    'dist-tools/',
    [join(ROOT, 'dist-tools', 'mock-upstream', 'main.js')],
    Math.max(
      newestMtime(join(ROOT, 'tools'), typescript),
      ...config('tsconfig.json', 'tools/tsconfig.json', 'package.json'),
    ),
  );
}

/** Installs the peer gateway in its own folder (never in the project's node_modules). */
export function ensurePeer(): string | null {
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

/**
 * Starts the run's services (servers' files in `servicesDir`, logs in `work`/logs); every process is adopted, so that
 * L.stopAll() ends it. `peerError` says why the peer cannot run, if it cannot.
 */
export async function startServices(work: string, servicesDir: string, peerInstallError: string | null): Promise<Ctx> {
  // A dedicated Redis for this run (INFO commandstats must see only our traffic). MongoDB:
  // MONGODB_URI when given (e.g. a real mongod), else provisionServices starts one.
  delete process.env.REDIS_URL;
  const prov = await provisionServices({ log: (l) => log(l), dataDir: servicesDir });
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
  let peerPid: number | null = null;
  let peerError = peerInstallError;
  if (!peerError) {
    const port = await freePort();
    peerPid = L.launch(
      'portkey',
      process.execPath,
      [join(PEER, 'start-portkey.mjs'), `--port=${port}`, '--headless'],
      { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir() },
      join(work, 'logs', 'portkey.log'),
    ).pid;
    try {
      await waitHttp(`http://127.0.0.1:${port}/`, 30_000);
      peerUrl = `http://127.0.0.1:${port}`;
    } catch (err) {
      peerError = `Portkey did not start: ${(err as Error).message}`;
    }
  }

  const ctx: Ctx = {
    work,
    redisUrl: prov.redisUrl,
    mongoUri: prov.mongoUri,
    mongoKind: prov.mongoKind,
    mockUrl,
    peerUrl,
    peerError,
    peerPid,
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
    `services: redis ${ctx.redisUrl}, MongoDB (${ctx.mongoKind}) ${ctx.mongoUri}, ` +
      `mock ${mockUrl}, Portkey ${ctx.peerUrl ?? 'n/a'}`,
  );
  return ctx;
}
