/** Timing and statistics: a clock, nearest-rank percentiles, summaries, and a bounded load loop. */
import { performance } from 'node:perf_hooks';

export const now = () => performance.now();

/** Nearest-rank percentile. */
export function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  const n = values.length;
  return {
    n,
    p50: round(pct(values, 50)),
    p99: round(pct(values, 99)),
    mean: round(n ? values.reduce((a, b) => a + b, 0) / n : NaN),
    // A loop, not a spread: a round of direct calls gives more values than a call's arguments may be.
    min: round(n ? values.reduce((a, b) => Math.min(a, b), Infinity) : NaN),
    max: round(n ? values.reduce((a, b) => Math.max(a, b), -Infinity) : NaN),
  };
}

export const round = (v: number, d = 3) => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : v);

export interface LoadResult {
  ok: number;
  errors: number;
  firstError: string | null;
  elapsedMs: number;
  latencies: number[];
}

/**
 * Runs `op` from `concurrency` loops until `durationMs` has passed or `count` ops were started,
 * whichever comes first; latencies of successful ops in ms.
 */
export async function runLoad(o: {
  concurrency: number;
  durationMs?: number;
  count?: number;
  op: (i: number) => Promise<void>;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  let started = 0;
  let errors = 0;
  let firstError: string | null = null;
  const t0 = now();
  const deadline = o.durationMs !== undefined ? t0 + o.durationMs : Infinity;
  const limit = o.count ?? Infinity;
  const loop = async () => {
    while (started < limit && now() < deadline) {
      const i = started++;
      const t = now();
      try {
        await o.op(i);
        latencies.push(now() - t);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, loop));
  return { ok: latencies.length, errors, firstError, elapsedMs: now() - t0, latencies };
}
