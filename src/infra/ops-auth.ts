import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../config/app-config';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** The token of a `Bearer <token>` header, or null. */
export function bearerOf(header: unknown): string | null {
  return typeof header === 'string' ? (/^Bearer\s+(\S{1,512})\s*$/i.exec(header)?.[1] ?? null) : null;
}

/** Whether `token` is one of `accepted`, compared in constant time (digests of equal length). */
export function tokenMatches(token: string | null, accepted: (string | undefined)[]): boolean {
  if (token === null) return false;
  const given = digest(token);
  let ok = false;
  for (const expected of accepted) if (expected && timingSafeEqual(given, digest(expected))) ok = true;
  return ok;
}

/**
 * The rule of /metrics on the api and the worker: open when METRICS_TOKEN is unset; otherwise a Bearer token that is
 * METRICS_TOKEN or ADMIN_TOKEN.
 */
export function metricsAllowed(config: AppConfig, authorization: unknown): boolean {
  if (!config.metricsToken) return true;
  return tokenMatches(bearerOf(authorization), [config.metricsToken, config.adminToken]);
}

/** Rejects with `what` after `ms`: health checks must answer even while a store hangs. */
export function within<T>(ms: number, what: string, step: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([step, timeout]).finally(() => clearTimeout(timer));
}
