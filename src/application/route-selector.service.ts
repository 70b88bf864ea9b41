import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/tokens';
import { AppError } from '../domain/errors';
import type { JsonObject } from '../domain/json';
import { unsupportedOverChat } from '../domain/responses-over-chat/request';
import { routesFor } from '../domain/routing';

/**
 * Which upstream route serves a call, decided on the api before anything is queued: the first route whose `models`
 * match (the others serve as its failover). A model no route serves is a 404; a Responses request a chat-only route
 * cannot express is a 400 naming the field.
 */
@Injectable()
export class RouteSelector {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  forResponse(model: string, request: JsonObject): string {
    const route = this.first(model);
    if (route.protocol === 'chat') {
      const problem = unsupportedOverChat(request);
      if (problem) throw AppError.badRequest(problem.message, problem.param, 'unsupported_parameter');
    }
    return route.name;
  }

  forChat(model: string): string {
    return this.first(model).name;
  }

  private first(model: string) {
    const route = routesFor(this.config.routes, model)[0];
    if (!route) {
      const message = `The model '${model}' does not exist or you do not have access to it.`;
      throw AppError.notFound(message, 'model', 'model_not_found');
    }
    return route;
  }
}
