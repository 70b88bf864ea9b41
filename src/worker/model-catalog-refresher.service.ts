import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import { patternMatches, type Route } from '../domain/routing';
import type { Logger } from '../infra/logger';
import { type CatalogModel, ModelCatalog } from '../infra/model-catalog';
import { UpstreamClients } from './upstream.client';

/** How long one upstream may take to list its models. */
const LIST_TIMEOUT_MS = 5000;

/**
 * Keeps the model lists of wildcard routes (`*`, `prefix-*`) in the catalog: what each upstream's `/models` lists,
 * narrowed to what the route serves. Workers do it because they hold the upstream keys; a failing upstream keeps its
 * last list until it lapses.
 */
@Injectable()
export class ModelCatalogRefresher implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    private readonly catalog: ModelCatalog,
    private readonly clients: UpstreamClients,
  ) {
    this.log = logger.child({ ctx: 'ModelCatalog' });
  }

  onApplicationBootstrap(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.config.modelsRefreshMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    const wildcard = this.config.routes.filter((r) => r.models.some((p) => p.endsWith('*')));
    await Promise.all(wildcard.map((route) => this.refreshRoute(route)));
  }

  private async refreshRoute(route: Route): Promise<void> {
    try {
      const body = await this.clients.for(route.name).getJson('/models', LIST_TIMEOUT_MS);
      const models = (Array.isArray(body.data) ? body.data : []).flatMap((m: unknown): CatalogModel[] => {
        if (typeof m !== 'object' || m === null) return [];
        const { id, created, owned_by } = m as Record<string, unknown>;
        if (typeof id !== 'string' || id.length > 256 || !route.models.some((p) => patternMatches(p, id))) return [];
        return [
          {
            id,
            created: typeof created === 'number' && Number.isFinite(created) ? Math.floor(created) : 0,
            owned_by: typeof owned_by === 'string' ? owned_by.slice(0, 256) : route.name,
          },
        ];
      });
      await this.catalog.write(route.name, models, this.config.modelsRefreshMs * 3);
    } catch (err) {
      // The message is ours (UpstreamError's are), never the upstream's body or our key.
      this.log.warn({ route: route.name, err: (err as Error).message }, 'could not list the models of a route');
    }
  }
}
