/** The targets of the latency phases (3 and 4): the mock directly, a fresh stack of ours, and the peer gateway. */
import { Pool } from 'undici';
import { AUTH, C } from '../config';
import { type Ctx, peerHeaders, type Target } from '../context';
import { startBenchStack } from '../stack';

/** Direct-to-mock and the peer; ours is added per stack. */
export function fixedTargets(ctx: Ctx): Target[] {
  const t: Target[] = [{ name: 'direct', pool: new Pool(ctx.mockUrl, { connections: 128 }), headers: {} }];
  if (ctx.peerUrl)
    t.push({ name: 'peer', pool: new Pool(ctx.peerUrl, { connections: 128 }), headers: peerHeaders(ctx) });
  return t;
}

/**
 * A fresh stack (empty database) for a latency measurement: on a MongoDB wire server without
 * index use, lookups slow down as collections grow, so no measurement inherits another's rows.
 */
export async function withLatencyStack<T>(
  ctx: Ctx,
  label: string,
  fixed: Target[],
  fn: (targets: Target[]) => Promise<T>,
): Promise<T> {
  const st = await startBenchStack(ctx, { label, workers: 1, concurrency: C.workerConcurrency });
  try {
    const [direct, ...rest] = fixed;
    return await fn([direct, { name: 'ours', pool: st.pool, headers: AUTH }, ...rest]);
  } finally {
    await st.stop();
  }
}
