import type { AppConfig } from './app-config';

/** A URL without its user, password, query or fragment (they may carry credentials). */
export function withoutCredentials(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * What a start prints about its setup, in one line: where the routes go (no keys, no headers), which stores (no
 * credentials), the limits that shape throughput.
 */
export function bootSummary(config: AppConfig): Record<string, unknown> {
  return {
    routes: config.routes.map((r) => ({
      name: r.name,
      url: withoutCredentials(r.baseUrl),
      protocol: r.protocol,
      models: r.models.join(','),
      ...(r.maxConcurrency ? { maxConcurrency: r.maxConcurrency } : {}),
      ...(r.rpm ? { rpm: r.rpm } : {}),
    })),
    stores: { redis: withoutCredentials(config.redisUrl), mongodb: withoutCredentials(config.mongodbUri) },
    queuePrefix: config.queuePrefix,
  };
}
