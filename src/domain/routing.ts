/** How an upstream is spoken to: the Responses API, or only Chat Completions (Responses are translated). */
export type UpstreamProtocolName = 'responses' | 'chat';

/** One upstream route (UPSTREAMS, or UPSTREAM_BASE_URL as the single default). */
export interface Route {
  name: string;
  baseUrl: string;
  /** Sent as a bearer token; never logged, never put in Redis or a job. */
  apiKey: string | undefined;
  protocol: UpstreamProtocolName;
  /** Exact names, `prefix-*`, or `*`. */
  models: string[];
  /** Calls at once across every worker process (BullMQ's global concurrency of the route's queue). */
  maxConcurrency: number | null;
  /** Calls started per minute across every worker process (the queue's rate limiter). */
  rpm: number | null;
  headers: Record<string, string>;
}

/** Whether a route's model pattern serves a model: an exact name, a trailing-`*` prefix, or `*`. */
export function patternMatches(pattern: string, model: string): boolean {
  if (pattern === '*') return true;
  return pattern.endsWith('*') ? model.startsWith(pattern.slice(0, -1)) : pattern === model;
}

/** The routes that serve a model, in configuration order: the first serves it, the others are its failover. */
export function routesFor(routes: readonly Route[], model: string): Route[] {
  return routes.filter((r) => r.models.some((p) => patternMatches(p, model)));
}

/** The route after `current` for a model (wrapping around), for the next attempt after a transient failure. */
export function nextRoute(
  routes: readonly Route[],
  model: string,
  current: string,
  accepts: (route: Route) => boolean = () => true,
): Route | null {
  const serving = routesFor(routes, model).filter((r) => r.name === current || accepts(r));
  const at = serving.findIndex((r) => r.name === current);
  return serving.length > 1 ? serving[(at + 1) % serving.length] : null;
}
