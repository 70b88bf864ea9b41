/**
 * `npm run local` (issue 11, defect 11): Ctrl-C stops the api and worker first and the stores last, so a job that
 * was running is finished and written, not run again; losing the parent (SIGTERM to npm) stops the stack; a second
 * stack on the same data refuses to start; the api listens on 127.0.0.1.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { freePort } from '../../tools/dev/services';
import { msUntilExit, waitFor } from '../support/wait';

const RUNNER = resolve(__dirname, '..', '..', 'dist-tools', 'dev', 'run-local.js');
const KEY = 'sk-local-dev-key';

interface Local {
  child: ChildProcess;
  output: () => string;
  port: number;
}

function startLocal(dataDir: string, port: number, viaShell = false): Local {
  // The worker's operations port is off: the default 9464 may be taken where tests run.
  const env = {
    PATH: process.env.PATH ?? '',
    LOCAL_DATA_DIR: dataDir,
    PORT: String(port),
    LOG_LEVEL: 'info',
    WORKER_HTTP_PORT: '0',
  };
  // Its own process group, like a terminal's foreground job: a signal to the group reaches every process in it.
  const child = viaShell
    ? spawn('sh', ['-c', `${process.execPath} ${RUNNER}`], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [RUNNER], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out, port };
}

const ready = (l: Local) =>
  waitFor('the local stack to be ready', () => (l.output().includes('[local] ready.') ? true : undefined), 90_000, 100);
const mongoOf = (l: Local) => /MongoDB:\s+\S+ at (\S+)/.exec(l.output())![1];
const redisPortOf = (l: Local) => Number(/Redis:\s+redis:\/\/127\.0\.0\.1:(\d+)/.exec(l.output())![1]);
const portOpen = (port: number) =>
  fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) }).then(
    () => true,
    (e: { cause?: { code?: string } }) => e.cause?.code !== 'ECONNREFUSED',
  );
const api = (l: Local, path: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${l.port}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...init.headers },
  });

let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'djq-local-'));
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('Ctrl-C finishes the running job before the stores stop; the restarted stack shows it done, run once', async () => {
  const first = startLocal(dataDir, await freePort());
  await ready(first);
  // pino-pretty's lines (LOG_FORMAT=pretty is the default of `npm run local`): the boot summary names the address.
  expect(first.output()).toMatch(/api listening/);
  expect(first.output()).toMatch(/host: "127\.0\.0\.1"/);
  const outside = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal);
  if (outside) {
    const reached = await fetch(`http://${outside.address}:${first.port}/health`, {
      signal: AbortSignal.timeout(2000),
    }).then(
      () => true,
      () => false,
    );
    expect(reached).toBe(false);
  }

  const second = startLocal(dataDir, await freePort());
  expect(await msUntilExit(second.child, 30_000)).toBeGreaterThanOrEqual(0);
  expect(second.child.exitCode).not.toBe(0);
  expect(second.output()).toContain('already runs on');

  const body = JSON.stringify({
    model: 'm',
    input: 'long job',
    background: true,
    metadata: { mock_latency_ms: '2500' },
  });
  const created = (await (await api(first, '/v1/responses', { method: 'POST', body })).json()) as { id: string };
  await new Promise((r) => setTimeout(r, 700)); // the worker has it, the upstream call is running
  const redisPort = redisPortOf(first);
  const mongoUri = mongoOf(first);
  process.kill(-first.child.pid!, 'SIGINT'); // Ctrl-C: the whole foreground group
  expect(await msUntilExit(first.child, 45_000)).toBeGreaterThanOrEqual(0);
  const log = first.output();
  expect(log).toContain('[local] stopped.');
  expect(log.indexOf('"msg":"worker drained"')).toBeLessThan(log.indexOf('[local] stopped.'));
  expect(log).not.toMatch(/MongoDB unavailable|redis connection error|could not publish/);
  expect(await portOpen(redisPort)).toBe(false);

  const again = startLocal(dataDir, await freePort());
  await ready(again);
  const after = (await (await api(again, `/v1/responses/${created.id}`)).json()) as { status: string };
  expect(after.status).toBe('completed');
  const mongo = await MongoClient.connect(mongoUri.replace(/:\d+\//, `:${/:(\d+)\//.exec(mongoOf(again))![1]}/`));
  const doc = await mongo.db().collection('responses').findOne({ responseId: created.id });
  await mongo.close();
  expect(doc?.upstreamCalls).toBe(1);
  process.kill(-again.child.pid!, 'SIGTERM');
  expect(await msUntilExit(again.child, 45_000)).toBeGreaterThanOrEqual(0);
}, 240_000);

it('stops the whole stack when whoever started it goes away (as npm does on SIGTERM)', async () => {
  const local = startLocal(dataDir, await freePort(), true);
  await ready(local);
  const redisPort = redisPortOf(local);
  process.kill(local.child.pid!, 'SIGKILL'); // the shell dies; the runner is handed to another parent
  await waitFor(
    'the stack to stop',
    async () => (!(await portOpen(local.port)) && !(await portOpen(redisPort)) ? true : undefined),
    45_000,
    200,
  );
}, 150_000);
