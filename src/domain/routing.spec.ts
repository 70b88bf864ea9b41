import { nextRoute, patternMatches, type Route, routesFor } from './routing';

const route = (name: string, models: string[], protocol: Route['protocol'] = 'responses'): Route => ({
  name,
  baseUrl: `http://${name}/v1`,
  apiKey: undefined,
  protocol,
  models,
  maxConcurrency: null,
  rpm: null,
  headers: {},
});

describe('routing', () => {
  it('matches exact names, trailing-* prefixes and *', () => {
    expect(patternMatches('gpt-4o', 'gpt-4o')).toBe(true);
    expect(patternMatches('gpt-4o', 'gpt-4o-mini')).toBe(false);
    expect(patternMatches('gpt-4o*', 'gpt-4o-mini')).toBe(true);
    expect(patternMatches('llama-*', 'llama')).toBe(false);
    expect(patternMatches('*', 'anything')).toBe(true);
  });

  const routes = [
    route('a', ['m-*']),
    route('chat', ['m-*'], 'chat'),
    route('b', ['m-1', 'other']),
    route('default', ['*']),
  ];

  it('lists the routes serving a model in configuration order', () => {
    expect(routesFor(routes, 'm-1').map((r) => r.name)).toEqual(['a', 'chat', 'b', 'default']);
    expect(routesFor(routes, 'zzz').map((r) => r.name)).toEqual(['default']);
  });

  it('fails over to the next serving route, wrapping around, skipping the ones that cannot take the call', () => {
    expect(nextRoute(routes, 'm-1', 'a')?.name).toBe('chat');
    expect(nextRoute(routes, 'm-1', 'default')?.name).toBe('a');
    const noChat = (r: Route) => r.protocol !== 'chat';
    expect(nextRoute(routes, 'm-1', 'a', noChat)?.name).toBe('b');
    expect(nextRoute(routes, 'm-2', 'a', noChat)?.name).toBe('default');
    // A model with one route has nowhere else to go.
    expect(nextRoute(routes, 'zzz', 'default')).toBeNull();
  });
});
