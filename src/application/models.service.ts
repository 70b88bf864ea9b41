import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/tokens';
import { AppError } from '../domain/errors';
import type { JsonObject } from '../domain/json';
import { patternMatches } from '../domain/routing';
import { ModelCatalog } from '../infra/model-catalog';

/**
 * GET /v1/models: the models the routes serve by name, then what the upstreams of wildcard routes list (cached by the
 * workers), each model once, in route order. The list is the same for every key.
 */
@Injectable()
export class ModelsService {
  /** `created` of a model named in UPSTREAMS: when this process read its configuration. */
  private readonly configuredAt = Math.floor(Date.now() / 1000);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly catalog: ModelCatalog,
  ) {}

  async list(): Promise<JsonObject> {
    return { object: 'list', data: await this.models() };
  }

  /**
   * A model the list has. A model a route serves by prefix but that no upstream listed is answered too, since calls
   * to it are routed; under a bare `*` only listed models exist.
   */
  async retrieve(id: string): Promise<JsonObject> {
    const listed = (await this.models()).find((m) => m.id === id);
    if (listed) return listed;
    const route = this.config.routes.find((r) => r.models.some((p) => p !== '*' && patternMatches(p, id)));
    if (route) return this.model(id, this.configuredAt, route.name);
    throw AppError.notFound(`The model '${id}' does not exist`, 'model', 'model_not_found');
  }

  private async models(): Promise<JsonObject[]> {
    const routes = this.config.routes;
    const cached = await this.catalog.read(
      routes.filter((r) => r.models.some((p) => p.endsWith('*'))).map((r) => r.name),
    );
    const seen = new Map<string, JsonObject>();
    for (const route of routes) {
      for (const name of route.models) {
        if (!name.endsWith('*') && !seen.has(name)) seen.set(name, this.model(name, this.configuredAt, route.name));
      }
      for (const m of cached.get(route.name) ?? []) {
        if (!seen.has(m.id)) seen.set(m.id, this.model(m.id, m.created, m.owned_by));
      }
    }
    return [...seen.values()];
  }

  private model(id: string, created: number, ownedBy: string): JsonObject {
    return { id, object: 'model', created, owned_by: ownedBy };
  }
}
