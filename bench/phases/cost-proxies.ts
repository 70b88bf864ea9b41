/**
 * 6. Cost, the counting side: TCP proxies between each process and the servers (MongoDB wire messages and RESP
 * commands, by name), Redis INFO commandstats, and per-job figures from their differences.
 */
import type { Redis } from 'ioredis';
import type { Ctx } from '../context';
import * as L from '../lib';

export async function commandStats(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const out: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

export const MONITORING = (name: string) => /^(hello|ismaster|isMaster|op_query:.*)$/i.test(name);
export const perJob = (c: Record<string, number>, n: number) =>
  Object.fromEntries(
    Object.entries(c)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, L.round(v / n, 2)]),
  );

/** One counting proxy per process and store, listening; snap() reads every count at once. */
export async function openProxies(ctx: Ctx) {
  const mongoTarget = (() => {
    const u = new URL(ctx.mongoUri);
    return { host: u.hostname, port: Number(u.port || 27017) };
  })();
  const redisTarget = (() => {
    const u = new URL(ctx.redisUrl);
    return { host: u.hostname, port: Number(u.port || 6379) };
  })();
  const proxies = {
    mongoApi: new L.CountingProxy(mongoTarget, 'mongo'),
    mongoWorker: new L.CountingProxy(mongoTarget, 'mongo'),
    redisApi: new L.CountingProxy(redisTarget, 'resp'),
    redisWorker: new L.CountingProxy(redisTarget, 'resp'),
    mongoFloor: new L.CountingProxy(mongoTarget, 'mongo'),
    redisFloor: new L.CountingProxy(redisTarget, 'resp'),
    redisFloorWorker: new L.CountingProxy(redisTarget, 'resp'),
  };
  for (const p of Object.values(proxies)) await p.listen();
  const url = (p: L.CountingProxy, scheme: string) => `${scheme}://127.0.0.1:${p.port}`;
  const snap = () =>
    Object.fromEntries(Object.entries(proxies).map(([k, p]) => [k, p.snapshot()])) as Record<
      keyof typeof proxies,
      Record<string, number>
    >;
  const close = async () => {
    for (const p of Object.values(proxies)) await p.close();
  };
  return { proxies, url, snap, close };
}

export type Proxies = Awaited<ReturnType<typeof openProxies>>;
