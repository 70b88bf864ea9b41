import { Injectable } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/tokens';
import { RedisConnections } from './redis-connections';

/** One model as an upstream's `/models` listed it. */
export interface CatalogModel {
  id: string;
  created: number;
  owned_by: string;
}

/** Longest a cached list may be (an upstream listing thousands of models is cut, not stored whole). */
const MAX_MODELS = 2000;

/**
 * What the upstreams of wildcard routes list as their models, cached in Redis: workers (which hold the upstream keys)
 * write it, the api reads it for GET /v1/models. A list lapses after its TTL, so a route whose upstream stopped
 * answering stops showing stale models.
 */
@Injectable()
export class ModelCatalog {
  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async write(route: string, models: CatalogModel[], ttlMs: number): Promise<void> {
    await this.redis.commands().set(this.key(route), JSON.stringify(models.slice(0, MAX_MODELS)), 'PX', ttlMs);
  }

  /** The cached lists of these routes (a route without one is missing from the answer). */
  async read(routes: readonly string[]): Promise<Map<string, CatalogModel[]>> {
    const found = new Map<string, CatalogModel[]>();
    if (routes.length === 0) return found;
    const client = this.redis.commands();
    const keys = routes.map((r) => this.key(r));
    // On a cluster the routes' keys sit in different slots, which one MGET cannot span: one GET each, in parallel.
    const values = this.redis.cluster ? await Promise.all(keys.map((k) => client.get(k))) : await client.mget(...keys);
    values.forEach((v, i) => {
      if (!v) return;
      try {
        const parsed: unknown = JSON.parse(v);
        if (Array.isArray(parsed)) found.set(routes[i], parsed as CatalogModel[]);
      } catch {
        // a damaged entry reads as none; the next refresh replaces it
      }
    });
    return found;
  }

  private key(route: string): string {
    return `${this.config.queuePrefix}:models:${route}`;
  }
}
