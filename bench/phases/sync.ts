/**
 * 3. Synchronous overhead: POST /v1/chat/completions latency through ours and through the peer, minus the same request
 * sent straight to the mock, in rotated time-bounded rounds per target.
 */
import { C, log } from '../config';
import { chatOnce, type Ctx, mockConfig, type Target, ZERO_MOCK } from '../context';
import * as L from '../lib';
import { withLatencyStack } from './targets';

export async function phaseSync(ctx: Ctx, fixed: Target[]) {
  log('3/6 synchronous overhead: POST /v1/chat/completions, ours and peer minus direct-to-mock');
  await mockConfig(ctx, ZERO_MOCK);
  const out: Record<string, Record<string, L.Summary & { errors: number }>> = {};
  for (const conc of C.sync.concurrencies)
    await withLatencyStack(ctx, `sync${conc}`, fixed, async (targets) => {
      const lat: Record<string, number[]> = {};
      const errs: Record<string, number> = {};
      for (const t of targets) {
        await L.runLoad({ concurrency: conc, count: C.sync.warmup, op: () => chatOnce(t) });
        lat[t.name] = [];
        errs[t.name] = 0;
      }
      for (let r = 0; r < C.sync.rounds[conc]; r++) {
        const order = targets.map((_, i) => targets[(i + r) % targets.length]); // rotate per round
        for (const t of order) {
          const res = await L.runLoad({ concurrency: conc, durationMs: C.sync.roundMs[conc], op: () => chatOnce(t) });
          for (const v of res.latencies) lat[t.name].push(v);
          errs[t.name] += res.errors;
          if (res.errors) log(`   ${t.name} c${conc}: ${res.errors} errors, first: ${res.firstError}`);
        }
      }
      out[`c${conc}`] = Object.fromEntries(
        targets.map((t) => [t.name, { ...L.summarize(lat[t.name]), errors: errs[t.name] }]),
      );
      const s = out[`c${conc}`];
      log(
        `   c${conc} p50: direct ${s.direct.p50} ms, ours ${s.ours.p50} ms${s.peer ? `, peer ${s.peer.p50} ms` : ''}`,
      );
    });
  return out;
}
