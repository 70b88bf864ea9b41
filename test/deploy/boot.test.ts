/**
 * A process that cannot start says why in one line and exits 1: a port already taken names the setting to change
 * (it was an unhandled rejection's stack from node:net).
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { testServices } from '../support/env';

const DIST = resolve(__dirname, '..', '..', 'dist');

function run(script: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const { redisUrl, mongoUri } = testServices();
  const child = spawn(process.execPath, [resolve(DIST, script)], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: redisUrl,
      MONGODB_URI: `${mongoUri.replace(/\/$/, '')}/boot_test`,
      UPSTREAM_BASE_URL: 'http://127.0.0.1:9/v1',
      API_KEYS: 'sk-boot-test:u1',
      QUEUE_PREFIX: 'boot-test',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, stderr });
    });
  });
}

let taken: Server;
let port = 0;

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  port = (taken.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((r) => taken.close(() => r())));

describe('a port already taken', () => {
  it('the worker names WORKER_HTTP_PORT and exits 1', async () => {
    const { code, stderr } = await run('main-worker.js', { WORKER_HTTP_PORT: String(port), HOST: '127.0.0.1' });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `worker could not start: port ${port} is already in use: set WORKER_HTTP_PORT to a free port (0: no listener)`,
    );
  }, 40_000);

  it('the api names PORT and exits 1', async () => {
    const { code, stderr } = await run('main-api.js', { PORT: String(port), HOST: '127.0.0.1' });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(`api could not start: port ${port} is already in use: set PORT to a free port`);
  }, 40_000);
});
