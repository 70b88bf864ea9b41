/**
 * `npm run bench` (issue 7): starts everything it needs on this machine (Redis and a MongoDB wire server via
 * provisionServices, the mock upstream, the built api and workers as separate processes, Portkey's gateway as the
 * peer), runs the phases in order within the time budget, prints a table and writes bench/results/latest.json and
 * bench/RESULTS.md. Every figure is measured in this run; ratios are against baselines measured in the same run on
 * the same Redis and MongoDB server. The phases are in bench/phases/, the report in report.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { C, log } from './config';
import type { Ctx } from './context';
import * as L from './lib';
import { phaseCost } from './phases/cost';
import { phaseE2E } from './phases/e2e';
import { phaseEnqueue } from './phases/enqueue';
import { phaseMemory } from './phases/memory';
import { phaseMongoServer } from './phases/mongo-server';
import { phaseStream } from './phases/stream';
import { phaseSync } from './phases/sync';
import { fixedTargets } from './phases/targets';
import { writeReport } from './report';
import type { Results } from './report-rows';
import { ensureBuild, ensurePeer, startServices } from './setup';

async function main(): Promise<void> {
  let ctx: Ctx | null = null;
  let servicesDir: string | null = null;
  let current = 'setup';
  const work = mkdtempSync(join(os.tmpdir(), 'djq-bench-'));
  mkdirSync(join(work, 'logs'), { recursive: true });
  const results: Results = {};
  const errors: string[] = [];
  // Past the budget: report what was measured, stop everything, exit.
  const watchdog = setTimeout(() => {
    const budget = `time budget of ${C.budgetMs / 60_000} minutes exceeded during ${current}`;
    log(`${budget}: reporting what was measured and stopping`);
    errors.push(`${budget}; later phases were not run`);
    try {
      writeReport({ results, errors, ctx, work });
    } finally {
      void L.stopAll().finally(() => {
        if (servicesDir) rmSync(servicesDir, { recursive: true, force: true });
        process.exit(3);
      });
    }
  }, C.budgetMs);
  try {
    ensureBuild();
    const peerInstallError = ensurePeer();
    // Server files on tmpfs when there is one: the same for every side, and no disk noise.
    servicesDir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/djq-bench-') : join(work, 'services');
    ctx = await startServices(work, servicesDir, peerInstallError);

    const c = ctx;
    // BENCH_PHASES=sync,cost runs only the phases named (for a second look at some figures; the rest is not reported).
    const only = process.env.BENCH_PHASES ? new Set(process.env.BENCH_PHASES.split(',')) : null;
    const phase = async <K extends keyof Results>(key: K, fn: () => Promise<Results[K]>) => {
      if (only && !only.has(key)) return;
      current = key;
      try {
        results[key] = await fn();
      } catch (err) {
        errors.push(`${key}: ${(err as Error).stack ?? String(err)}`);
        log(`phase ${key} failed: ${(err as Error).message}`);
      }
    };
    await phase('enqueue', () => phaseEnqueue(c));
    await phase('e2e', () => phaseE2E(c));
    if (results.e2e?.dbs?.[0]) await phase('mongoServer', () => phaseMongoServer(c, results.e2e!.dbs![0]));
    const fixed = fixedTargets(c);
    await phase('sync', () => phaseSync(c, fixed));
    await phase('stream', () => phaseStream(c, fixed));
    for (const t of fixed) await t.pool.close().catch(() => undefined);
    await phase('memory', () => phaseMemory(c));
    await phase('cost', () => phaseCost(c));
  } catch (err) {
    errors.push(`setup: ${(err as Error).stack ?? String(err)}`);
    log(`setup failed: ${(err as Error).message}`);
  } finally {
    await ctx?.redis.quit().catch(() => undefined);
    await ctx?.mongo.close().catch(() => undefined);
    await L.stopAll();
    if (servicesDir) rmSync(servicesDir, { recursive: true, force: true });
    clearTimeout(watchdog);
  }

  writeReport({ results, errors, ctx, work });
  if (errors.length === 0) rmSync(work, { recursive: true, force: true });
  // Everything started is stopped; leftover keep-alive sockets must not hold the process open.
  process.exit(errors.length ? 1 : 0);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    log(`${sig}: stopping everything`);
    void L.stopAll().finally(() => process.exit(130));
  });
}

main().catch((err) => {
  log(`bench failed: ${(err as Error).stack ?? String(err)}`);
  void L.stopAll().finally(() => process.exit(1));
});
