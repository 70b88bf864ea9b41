/**
 * `npm run bench:chain` (issue 12): what a long `previous_response_id` chain costs. Builds a chain of CHAIN_TURNS
 * (default 200) synchronous turns against the MOCK upstream and compares the latency of the first turns, the last
 * turns, and plain turns without a chain taken at the same collection size (FerretDB, the test database, gets slower
 * as a collection grows; that part is the database's, not the chain's). One read of the previous response on the
 * api and one query for the whole chain on the worker, whatever its length: the last turns should cost about what the
 * plain turns cost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYS, startStack, UPSTREAM_KEY } from '../test/support/stack';
import { provisionServices, stopServices } from '../tools/dev/services';
import { CountingProxy, diffCounts, sumCounts } from './lib/proxy';
import { startMockUpstream } from '../tools/mock-upstream/mock-upstream';

const TURNS = Number(process.env.CHAIN_TURNS ?? 200);
const SAMPLE = 10;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

async function timed<T>(step: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const out = await step();
  return [out, performance.now() - t];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'djq-chain-'));
  const services = await provisionServices({ dataDir: dir });
  const mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  // MongoDB commands per turn, counted on the wire (the drivers' own heartbeats left out).
  const target = new URL(services.mongoUri.replace(/^mongodb:/, 'http:'));
  const proxy = new CountingProxy({ host: target.hostname, port: Number(target.port) }, 'mongo');
  const proxyPort = await proxy.listen();
  const heartbeat = (name: string) => /^(hello|ismaster|isMaster|ping|buildInfo|endSessions)$/.test(name);
  const stack = await startStack({
    upstreamUrl: mock.url,
    redisUrl: services.redisUrl,
    mongoUri: `mongodb://127.0.0.1:${proxyPort}`,
    env: { LOG_LEVEL: 'warn' },
  });
  try {
    const client = stack.client(KEYS.alice, 0, { timeout: 60_000 });
    const chain: number[] = [];
    const commands: number[] = [];
    let previous: string | undefined;
    for (let i = 1; i <= TURNS; i++) {
      const before = proxy.snapshot();
      const [r, ms] = await timed(() =>
        client.responses.create({ model: 'gpt-chain', input: `turn ${i}`, previous_response_id: previous }),
      );
      chain.push(ms);
      commands.push(sumCounts(diffCounts(proxy.snapshot(), before), heartbeat));
      previous = r.id;
      if (i % 50 === 0) process.stderr.write(`[chain] ${i} turns\n`);
    }
    const plain: number[] = [];
    for (let i = 0; i < SAMPLE; i++) {
      plain.push((await timed(() => client.responses.create({ model: 'gpt-chain', input: `plain ${i}` })))[1]);
    }
    const last = mock
      .calls()
      .filter((c) => c.model === 'gpt-chain' && Array.isArray(c.body.input))
      .at(-1);
    const first = median(chain.slice(0, SAMPLE));
    const end = median(chain.slice(-SAMPLE));
    const atSize = median(plain);
    const rows = [
      ['turns 1-10, median', `${first.toFixed(1)} ms`],
      [`turns ${TURNS - SAMPLE + 1}-${TURNS}, median`, `${end.toFixed(1)} ms`],
      ['plain turns at that size, median', `${atSize.toFixed(1)} ms`],
      [`turn ${TURNS} over a plain turn`, `${(end / atSize).toFixed(2)}x`],
      ['MongoDB commands, turns 1-10, median', String(median(commands.slice(0, SAMPLE)))],
      [`MongoDB commands, turns ${TURNS - SAMPLE + 1}-${TURNS}, median`, String(median(commands.slice(-SAMPLE)))],
      [`items sent upstream at turn ${TURNS}`, String((last?.body.input as unknown[] | undefined)?.length ?? 0)],
    ];
    process.stdout.write(
      `\nprevious_response_id chain of ${TURNS} synchronous turns (MOCK upstream, ${services.mongoKind})\n`,
    );
    for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(40)} ${v}\n`);
  } finally {
    await stack.stop();
    await proxy.close();
    await mock.close();
    await stopServices(services.pids);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench:chain failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
