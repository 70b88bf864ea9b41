import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ensureFerretDb,
  FERRETDB_BIN,
  ferretDbArgs,
  freePort,
  redisServerArgs,
  waitForPort,
} from '../../tools/dev/services';
import { waitFor } from './wait';

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

/** A local Redis Cluster: its masters (each one restartable on its port and nodes.conf) and the seed list. */
export interface ClusterProc {
  /** REDIS_CLUSTER_NODES: `127.0.0.1:p1,127.0.0.1:p2,...`. */
  nodes: string;
  masters: ServiceProc[];
  ports: number[];
  /** Resolves when every master answers cluster_state:ok (after a restart, for instance); bounded. */
  waitOk(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const execFileP = promisify(execFile);

async function clusterState(port: number): Promise<string> {
  try {
    const { stdout } = await execFileP('redis-cli', ['-p', String(port), 'cluster', 'info'], { timeout: 2000 });
    return /cluster_state:(\w+)/.exec(stdout)?.[1] ?? 'unknown';
  } catch {
    return 'unreachable';
  }
}

/**
 * A real three-master Redis Cluster on loopback (no replicas): `redis-server --cluster-enabled yes` on free ports,
 * joined with `redis-cli --cluster create`. `durable` gives each master an fsync-always append-only file, so a master
 * killed with -9 and started again on its port and nodes.conf comes back with its slots and its data.
 */
export async function clusterProc(o: { masters?: number; durable?: boolean } = {}): Promise<ClusterProc> {
  const count = o.masters ?? 3;
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const masters = ports.map((port) => {
    const dir = mkdtempSync(join(tmpdir(), 'djq-cluster-'));
    const log = openSync(join(dir, 'redis.log'), 'a');
    const args = [
      ...redisServerArgs({ port, dir, appendOnly: o.durable ?? false, fsyncAlways: o.durable ?? false }),
      ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')],
      // A master back within this is never marked failed: the others just reconnect to it.
      ...['--cluster-node-timeout', '5000'],
    ];
    return managed(
      'redis-server (cluster)',
      port,
      () => spawn('redis-server', args, { stdio: ['ignore', log, log] }),
      `redis://127.0.0.1:${port}`,
    );
  });
  const stop = async () => {
    await Promise.all(masters.map((m) => m.kill('SIGKILL')));
  };
  const waitOk = async (timeoutMs = 30_000) => {
    await waitFor(
      'the Redis Cluster to be ok',
      async () => ((await Promise.all(ports.map(clusterState))).every((s) => s === 'ok') ? true : undefined),
      timeoutMs,
      100,
    );
  };
  try {
    await Promise.all(masters.map((m) => m.start()));
    const seeds = ports.map((p) => `127.0.0.1:${p}`);
    await execFileP('redis-cli', ['--cluster', 'create', ...seeds, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });
    await waitOk();
    return { nodes: seeds.join(','), masters, ports, waitOk, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
