/**
 * Runs the MOCK UPSTREAM on its own (offline runs: `npm run start:mock`). It is a fake model.
 * MOCK_PORT (default 4010), MOCK_HOST (default 127.0.0.1), MOCK_API_KEY (optional: require
 * this bearer key, to check that UPSTREAM_API_KEY is sent), MOCK_LATENCY_MS, MOCK_TOKENS,
 * MOCK_TOKEN_DELAY_MS: defaults for every call.
 */
import { startMockUpstream } from './mock-upstream';

async function main(): Promise<void> {
  const env = process.env;
  const num = (v: string | undefined, d: number) => (v && /^\d+$/.test(v) ? Number(v) : d);
  const mock = await startMockUpstream({
    port: num(env.MOCK_PORT, 4010),
    host: env.MOCK_HOST || '127.0.0.1',
    apiKey: env.MOCK_API_KEY || undefined,
    defaults: {
      latencyMs: num(env.MOCK_LATENCY_MS, 0),
      tokens: num(env.MOCK_TOKENS, 8),
      tokenDelayMs: num(env.MOCK_TOKEN_DELAY_MS, 0),
    },
  });
  process.stdout.write(`MOCK upstream (not a real model) listening on ${mock.url}\n`);
  const stop = () => void mock.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
