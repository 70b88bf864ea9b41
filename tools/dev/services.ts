/**
 * Provisions the real services that tests and local runs need, in the architecture's order:
 *   Redis:   REDIS_URL if set, else a `redis-server` on PATH started on a free port.
 *   MongoDB: MONGODB_URI if set, else a `mongod` on PATH, else FerretDB 1.x (a MongoDB
 *            wire-protocol server) built from the Go module proxy and run with SQLite in a
 *            temp folder. Missing both: an error that says how to provide one.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, statSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface Provisioned {
  redisUrl: string;
  mongoUri: string;
  /** How MongoDB is served: 'external', 'mongod' or 'ferretdb'. */
  mongoKind: string;
  pids: number[];
}

/**
 * The project's root: the nearest folder above this file with a package.json. This file runs from tools/dev (jest),
 * dist-tools/dev (npm run local) and dist-bench/tools/dev (npm run bench), so a fixed number of '..' would not do.
 */
function projectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const ROOT = projectRoot(__dirname);
export const FERRETDB_BIN = join(ROOT, '.cache', 'bin', 'ferretdb-embedded');

export interface ProvisionOptions {
  log?: (line: string) => void;
  /** Where started services keep their files; a new temp folder by default. */
  dataDir?: string;
  /** Redis with append-only persistence (local runs); tests use none. */
  persistent?: boolean;
  /**
   * Started in a process group of their own (local runs): Ctrl-C in the terminal then reaches the api and worker,
   * never the stores, which are stopped last (a draining worker must still be able to write what it finished).
   */
  ownProcessGroup?: boolean;
}

export async function provisionServices(opts: ProvisionOptions = {}): Promise<Provisioned> {
  const log = opts.log ?? (() => undefined);
  const own = opts.ownProcessGroup ?? false;
  const dir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'djq-services-'));
  const pids: number[] = [];

  let redisUrl = process.env.REDIS_URL;
  if (redisUrl) {
    await waitForPort(new URL(redisUrl).hostname, Number(new URL(redisUrl).port || 6379), 5000, 'REDIS_URL');
  } else if (onPath('redis-server')) {
    const port = await freePort();
    const redisDir = join(dir, 'redis');
    mkdirSync(redisDir, { recursive: true });
    const args = redisServerArgs({ port, dir: redisDir, appendOnly: opts.persistent ?? false });
    const child = startDetached('redis-server', args, join(dir, 'redis.log'), own);
    pids.push(child.pid!);
    await waitForPort('127.0.0.1', port, 10_000, 'redis-server');
    redisUrl = `redis://127.0.0.1:${port}`;
    log(`redis-server started on ${redisUrl}`);
  } else {
    throw new Error(
      'No Redis available. Set REDIS_URL=redis://host:port, or install redis-server ' +
        '(Debian: apt-get install redis-server) so it can be started on a free port.',
    );
  }

  let mongoUri = process.env.MONGODB_URI;
  let mongoKind = 'external';
  if (mongoUri) {
    const u = new URL(mongoUri.replace(/^mongodb(\+srv)?:/, 'http:'));
    await waitForPort(u.hostname, Number(u.port || 27017), 5000, 'MONGODB_URI');
  } else if (onPath('mongod')) {
    const port = await freePort();
    const dbPath = join(dir, 'mongod');
    mkdirSync(dbPath, { recursive: true });
    const child = startDetached(
      'mongod',
      ['--port', String(port), '--bind_ip', '127.0.0.1', '--dbpath', dbPath, '--quiet'],
      join(dir, 'mongod.log'),
      own,
    );
    pids.push(child.pid!);
    await waitForPort('127.0.0.1', port, 30_000, 'mongod');
    mongoUri = `mongodb://127.0.0.1:${port}`;
    mongoKind = 'mongod';
    log(`mongod started on ${mongoUri}`);
  } else {
    ensureFerretDb(log);
    const port = await freePort();
    const child = startDetached(
      FERRETDB_BIN,
      ferretDbArgs(port, join(dir, 'ferretdb')),
      join(dir, 'ferretdb.log'),
      own,
    );
    pids.push(child.pid!);
    await waitForPort('127.0.0.1', port, 30_000, 'FerretDB');
    mongoUri = `mongodb://127.0.0.1:${port}`;
    mongoKind = 'ferretdb';
    log(`FerretDB (MongoDB wire protocol, SQLite backend) started on ${mongoUri}`);
  }
  return { redisUrl, mongoUri, mongoKind, pids };
}

/**
 * The arguments of every redis-server we start (tests, fault tests, local runs, the bench): loopback only, no RDB
 * snapshots, no eviction (BullMQ needs every key it wrote). `appendOnly` keeps data across restarts; `fsyncAlways`
 * makes every write durable before it is acknowledged (the fault tests kill -9 it).
 */
export function redisServerArgs(o: {
  port: number;
  dir: string;
  appendOnly?: boolean;
  fsyncAlways?: boolean;
}): string[] {
  return [
    ...['--port', String(o.port), '--bind', '127.0.0.1', '--save', ''],
    ...['--appendonly', o.appendOnly ? 'yes' : 'no'],
    ...(o.fsyncAlways ? ['--appendfsync', 'always'] : []),
    ...['--maxmemory-policy', 'noeviction', '--dir', o.dir],
  ];
}

/** The arguments of our FerretDB build: loopback on `port`, SQLite files in `dataDir`. */
export function ferretDbArgs(port: number, dataDir: string): string[] {
  return ['-listen', `127.0.0.1:${port}`, '-dir', dataDir];
}

/** The MongoDB URI with a database of its own. */
export function mongoUriFor(base: string, db: string): string {
  const u = new URL(base);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Builds our embedding of FerretDB when the binary is missing or older than its sources. */
export function ensureFerretDb(log: (line: string) => void = () => undefined): void {
  const src = join(ROOT, 'tools', 'ferretdb');
  const newestSource = Math.max(...['main.go', 'go.mod', 'go.sum'].map((f) => statSync(join(src, f)).mtimeMs));
  if (existsSync(FERRETDB_BIN) && statSync(FERRETDB_BIN).mtimeMs >= newestSource) return;
  if (!onPath('go')) {
    throw new Error(
      'No MongoDB available. Set MONGODB_URI=mongodb://host:port, put mongod on PATH, or install Go (>= 1.24) ' +
        'so FerretDB can be built from the Go module proxy (tools/ferretdb).',
    );
  }
  log('building FerretDB from the Go module proxy (first run only; about two minutes)...');
  mkdirSync(join(ROOT, '.cache', 'bin'), { recursive: true });
  execFileSync('go', ['build', '-o', FERRETDB_BIN, '.'], {
    cwd: src,
    stdio: 'inherit',
    env: { ...process.env, GOFLAGS: '-mod=mod' },
  });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGTERM to each service, then waits (at most `waitMs`) until they have exited. */
export async function stopServices(pids: number[], waitMs = 10_000): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + waitMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

function startDetached(cmd: string, args: string[], logFile: string, ownGroup: boolean): ChildProcess {
  const out = openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', out, out], detached: ownGroup });
  child.unref();
  return child;
}

function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

export async function waitForPort(host: string, port: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = createConnection({ host, port });
      s.once('connect', () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`${what} did not accept connections on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
