import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureFerretDb,
  FERRETDB_BIN,
  ferretDbArgs,
  freePort,
  redisServerArgs,
  waitForPort,
} from '../../tools/dev/services';

/** A service process a fault test can kill and start again on the same port and data. */
export interface ServiceProc {
  url: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function managed(name: string, port: number, spawnIt: () => ChildProcess, url: string): ServiceProc {
  let child: ChildProcess | null = null;
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      // Bounded: a server that ignores the signal is killed 5 s later.
      const hard = setTimeout(() => c.kill('SIGKILL'), 5000);
      c.once('exit', () => {
        clearTimeout(hard);
        resolve();
      });
      c.kill(signal);
    });
  };
  return {
    url,
    kill,
    start: async () => {
      child = spawnIt();
      await waitForPort('127.0.0.1', port, 30_000, name);
    },
    stop: () => kill('SIGTERM'),
  };
}

/** Our own redis-server with append-only persistence, fsync on every write. */
export async function redisProc(): Promise<ServiceProc> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'djq-redis-'));
  const log = openSync(join(dir, 'redis.log'), 'a');
  const proc = managed(
    'redis-server',
    port,
    () =>
      spawn('redis-server', redisServerArgs({ port, dir, appendOnly: true, fsyncAlways: true }), {
        stdio: ['ignore', log, log],
      }),
    `redis://127.0.0.1:${port}`,
  );
  await proc.start();
  return proc;
}

/** Our own FerretDB (MongoDB wire protocol, SQLite files kept across restarts). */
export async function ferretProc(): Promise<ServiceProc> {
  ensureFerretDb();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'djq-ferret-'));
  mkdirSync(join(dir, 'data'), { recursive: true });
  const log = openSync(join(dir, 'ferretdb.log'), 'a');
  const proc = managed(
    'FerretDB',
    port,
    () => spawn(FERRETDB_BIN, ferretDbArgs(port, join(dir, 'data')), { stdio: ['ignore', log, log] }),
    `mongodb://127.0.0.1:${port}`,
  );
  await proc.start();
  return proc;
}
