/**
 * `npm run local`: the whole service on this machine without Docker. Starts (or uses) Redis and a MongoDB wire
 * server, the MOCK upstream when UPSTREAM_BASE_URL is unset, then the api and a worker as separate processes. Data
 * lives in .local/ and survives restarts. Ctrl-C (or SIGTERM) stops the api and worker first, then the mock, then the
 * stores. Everything listens on 127.0.0.1 unless HOST says otherwise: the stack ships a well-known dev key.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startMockUpstream } from '../mock-upstream/mock-upstream';
import { provisionServices, stopServices } from './services';

const ROOT = resolve(__dirname, '..', '..');
const say = (line: string) => process.stdout.write(`[local] ${line}\n`);
/** Who started us (tools/dev/local.mjs reads it before building); see the watch in main. */
const PARENT = Number(process.env.LOCAL_PARENT_PID) || process.ppid;

/** One stack per data directory: a second one would run a second Redis and MongoDB on the same files. */
function lock(dataDir: string): () => void {
  const file = join(dataDir, 'local.pid');
  let holder = NaN;
  try {
    holder = Number(readFileSync(file, 'utf8'));
  } catch {
    // no lock yet
  }
  if (Number.isInteger(holder) && holder > 0 && holder !== process.pid) {
    let running = false;
    try {
      process.kill(holder, 0);
      running = true;
    } catch {
      running = false; // a stale lock from a stack that died
    }
    if (running) throw new Error(`another \`npm run local\` (pid ${holder}) already runs on ${dataDir}; stop it first`);
  }
  writeFileSync(file, String(process.pid));
  return () => rmSync(file, { force: true });
}

async function main(): Promise<void> {
  const dataDir = process.env.LOCAL_DATA_DIR ?? join(ROOT, '.local');
  mkdirSync(dataDir, { recursive: true });
  const unlock = lock(dataDir);
  const services = await provisionServices({ log: say, dataDir, persistent: true, ownProcessGroup: true });
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  env.REDIS_URL = services.redisUrl;
  env.MONGODB_URI = process.env.MONGODB_URI ?? `${services.mongoUri.replace(/\/$/, '')}/openai_jobs`;
  env.PORT = process.env.PORT ?? '3000';
  env.HOST = process.env.HOST ?? '127.0.0.1';
  env.API_KEYS = process.env.API_KEYS ?? 'sk-local-dev-key:local-user';
  // Lines for people here; JSON (the default) elsewhere.
  env.LOG_FORMAT = process.env.LOG_FORMAT ?? 'pretty';

  let mockClose: (() => Promise<void>) | undefined;
  if (!process.env.UPSTREAM_BASE_URL) {
    const mock = await startMockUpstream({ defaults: { latencyMs: 200, tokens: 12 } });
    mockClose = mock.close;
    env.UPSTREAM_BASE_URL = `${mock.url}/v1`;
    say(`UPSTREAM_BASE_URL is unset: using the MOCK upstream (canned text, not a model) at ${mock.url}`);
  }

  const children: ChildProcess[] = [];
  let stopping: Promise<void> | null = null;
  const stop = (code: number) => {
    stopping ??= (async () => {
      // The api and worker drain first (the worker may still write what it finished), the stores go last.
      children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGTERM'));
      await Promise.all(
        children.map(
          (c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r))),
        ),
      );
      await mockClose?.();
      await stopServices(services.pids);
      unlock();
      say('stopped.');
      process.exit(code);
    })();
  };
  const launch = (script: string) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', script)], { env, stdio: 'inherit' });
    children.push(child);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      say(`${script} exited (${signal ?? code}); stopping everything`);
      stop(1);
    });
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  process.on('SIGHUP', () => stop(0));
  // npm does not pass its SIGTERM on through the shell it runs scripts in: when whoever started us goes away, we are
  // handed to another parent, and that is the signal to stop too.
  setInterval(() => process.ppid !== PARENT && stop(0), 500).unref();

  launch('main-api.js');
  launch('main-worker.js');
  const base = `http://127.0.0.1:${env.PORT}`;
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`${base}/health/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const firstKey = env.API_KEYS.split(',')[0].slice(0, env.API_KEYS.split(',')[0].lastIndexOf(':'));
  say('ready.');
  say(`  OpenAI base URL: http://${env.HOST}:${env.PORT}/v1`);
  say(`  API key:         ${process.env.API_KEYS ? '(from API_KEYS)' : firstKey}`);
  say(`  MongoDB:         ${services.mongoKind} at ${env.MONGODB_URI}`);
  say(`  Redis:           ${services.redisUrl}`);
  say('Press Ctrl-C to stop.');
}

void main().catch((err: Error) => {
  process.stderr.write(`[local] ${err.message}\n`);
  process.exit(1);
});
