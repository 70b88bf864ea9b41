/**
 * `npm run local`: the whole service on this machine without Docker. Starts (or uses) Redis and
 * a MongoDB wire server, the MOCK upstream when UPSTREAM_BASE_URL is unset, then the api and a
 * worker as separate processes. Data lives in .local/ and survives restarts. Ctrl-C stops all.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startMockUpstream } from '../mock-upstream/mock-upstream';
import { provisionServices, stopServices } from './services';

const ROOT = resolve(__dirname, '..', '..');

async function main(): Promise<void> {
  const say = (line: string) => process.stdout.write(`[local] ${line}\n`);
  const dataDir = join(ROOT, '.local');
  mkdirSync(dataDir, { recursive: true });
  const services = await provisionServices({ log: say, dataDir, persistent: true });
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  env.REDIS_URL = services.redisUrl;
  env.MONGODB_URI = process.env.MONGODB_URI ?? `${services.mongoUri.replace(/\/$/, '')}/openai_jobs`;
  env.PORT = process.env.PORT ?? '3000';
  env.API_KEYS = process.env.API_KEYS ?? 'sk-local-dev-key:local-user';

  let mockClose: (() => Promise<void>) | undefined;
  if (!process.env.UPSTREAM_BASE_URL) {
    const mock = await startMockUpstream({ defaults: { latencyMs: 200, tokens: 12 } });
    mockClose = mock.close;
    env.UPSTREAM_BASE_URL = `${mock.url}/v1`;
    say(`UPSTREAM_BASE_URL is unset: using the MOCK upstream (canned text, not a model) at ${mock.url}`);
  }

  const children: ChildProcess[] = [];
  const launch = (script: string) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', script)], { env, stdio: 'inherit' });
    children.push(child);
    child.on('exit', (code, signal) => {
      if (!stopping) {
        say(`${script} exited (${signal ?? code}); stopping everything`);
        void stop(1);
      }
    });
  };
  let stopping = false;
  const stop = async (code: number) => {
    stopping = true;
    children.forEach((c) => c.kill('SIGTERM'));
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await mockClose?.();
    stopServices(services.pids);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  launch('main-api.js');
  launch('main-worker.js');
  const base = `http://127.0.0.1:${env.PORT}`;
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`${base}/health`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const firstKey = env.API_KEYS.split(',')[0].slice(0, env.API_KEYS.split(',')[0].lastIndexOf(':'));
  say('ready.');
  say(`  OpenAI base URL: ${base}/v1`);
  say(`  API key:         ${process.env.API_KEYS ? '(from API_KEYS)' : firstKey}`);
  say(`  MongoDB:         ${services.mongoKind} at ${env.MONGODB_URI}`);
  say(`  Redis:           ${services.redisUrl}`);
  say('Press Ctrl-C to stop.');
}

void main().catch((err: Error) => {
  process.stderr.write(`[local] ${err.message}\n`);
  process.exit(1);
});
