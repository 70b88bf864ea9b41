/**
 * No Docker engine runs where this project is tested, so docker-compose.yml and the Dockerfile
 * are checked against the code instead: the variables they set are the ones the config reads,
 * each role boots with them, commands name built entrypoints, images are pinned.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig, type Role } from '../../src/config/app-config';
import { HARD_STOP_MARGIN_MS } from '../../src/infra/shutdown';

const ROOT = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    {
      image?: string;
      command?: string[];
      environment?: Record<string, string>;
      healthcheck?: unknown;
      depends_on?: Record<string, { condition: string }>;
    }
  >;
};
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

/** Resolves compose's ${VAR:-default} and ${VAR:?message} the way compose would with VAR unset. */
function resolveEnv(env: Record<string, string>, given: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    out[k] = String(v).replace(
      /\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}/g,
      (_m, name: string, def?: string) => given[name] ?? def ?? '',
    );
  }
  return out;
}

function variablesRead(role: Role, env: Record<string, string>): Set<string> {
  const seen = new Set<string>();
  loadConfig(new Proxy(env, { get: (t, k: string) => (seen.add(k), t[k]) }), role);
  return seen;
}

describe('docker-compose.yml', () => {
  it('pins every image and builds the app image from this repo', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.image).toBeDefined();
      expect(svc.image).not.toMatch(/:latest$/);
      if (['mongo', 'redis'].includes(name)) expect(svc.image).toMatch(/:\d+\.\d+\.\d+/);
    }
  });

  it('runs Redis with append-only persistence and noeviction', () => {
    const cmd = compose.services.redis.command!.join(' ');
    expect(cmd).toContain('--appendonly yes');
    expect(cmd).toContain('--maxmemory-policy noeviction');
  });

  it.each([
    ['api', 'api' as Role, 'start:api', { API_KEYS: 'sk-x:user1' }],
    ['worker', 'worker' as Role, 'start:worker', {}],
  ])('%s: runs the built entrypoint and boots with the environment it is given', (service, role, script, given) => {
    const svc = compose.services[service];
    expect(svc.command).toEqual(pkg.scripts[script].split(' '));
    const env = resolveEnv(svc.environment ?? {}, given);
    expect(() => loadConfig(env, role)).not.toThrow();
    // Every variable compose sets is one the config actually reads.
    const read = variablesRead(role, env);
    for (const name of Object.keys(env)) expect(read).toContain(name);
    const stores = { mongo: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } };
    // The worker calls the mock from its first job: it waits until the mock answers too.
    const mock = service === 'worker' ? { 'mock-upstream': { condition: 'service_healthy' } } : {};
    expect(svc.depends_on).toEqual({ ...stores, ...mock });
  });

  it('passes every setting of the service through (the admin API, prices, limits, timeouts can be set)', () => {
    const api = Object.keys(compose.services.api.environment ?? {});
    for (const name of ['ADMIN_TOKEN', 'PRICE_TABLE', 'RATE_LIMIT_RPM', 'RATE_LIMIT_CONCURRENCY', 'SYNC_TIMEOUT_MS']) {
      expect(api).toContain(name);
    }
    // The api picks a model's route from the same UPSTREAMS the worker calls, but never holds an upstream key.
    for (const name of ['UPSTREAM_BASE_URL', 'UPSTREAMS', 'UPSTREAMS_FILE']) expect(api).toContain(name);
    expect(api).not.toContain('UPSTREAM_API_KEY');
    const worker = Object.keys(compose.services.worker.environment ?? {});
    for (const name of ['JOB_ATTEMPTS', 'WORKER_SHUTDOWN_GRACE_MS', 'STORE_WRITE_RETRY_MS', 'PRICE_TABLE']) {
      expect(worker).toContain(name);
    }
    // Both roles can be pointed at a Redis Cluster instead of the bundled Redis.
    for (const env of [api, worker]) expect(env).toContain('REDIS_CLUSTER_NODES');
  });

  it('boots both roles on a Redis Cluster when REDIS_CLUSTER_NODES is given', () => {
    const given = { API_KEYS: 'sk-x:user1', REDIS_CLUSTER_NODES: 'redis-a:7000,redis-b:7001' };
    for (const [service, role] of [
      ['api', 'api'],
      ['worker', 'worker'],
    ] as const) {
      const config = loadConfig(resolveEnv(compose.services[service].environment ?? {}, given), role);
      expect(config.redisClusterNodes).toEqual([
        { host: 'redis-a', port: 7000 },
        { host: 'redis-b', port: 7001 },
      ]);
    }
  });

  it("waits longer than the code's own shutdown bound before killing api and worker", () => {
    // Grace 25 s (API_/WORKER_SHUTDOWN_GRACE_MS) plus the hard-stop margin of infra/shutdown.ts.
    const bound = 25 + HARD_STOP_MARGIN_MS / 1000;
    for (const name of ['api', 'worker']) {
      const period = (compose.services[name] as { stop_grace_period?: string }).stop_grace_period ?? '10s';
      expect(Number(/^(\d+)s$/.exec(period)?.[1])).toBeGreaterThan(bound);
    }
  });

  it('health-checks the stores, the api and the worker', () => {
    for (const name of ['mongo', 'redis', 'api', 'worker']) expect(compose.services[name].healthcheck).toBeDefined();
  });

  it("probes readiness: the api's /health/ready, and the worker's on its operations port, which is not published", () => {
    const probe = (name: string) => JSON.stringify((compose.services[name].healthcheck as { test: string[] }).test);
    expect(probe('api')).toContain('http://127.0.0.1:3000/health/ready');
    const worker = compose.services.worker as { environment?: Record<string, string>; ports?: unknown };
    const port = worker.environment!.WORKER_HTTP_PORT;
    expect(loadConfig(resolveEnv(worker.environment!, {}), 'worker').workerHttpPort).toBe(Number(port));
    expect(probe('worker')).toContain(`http://127.0.0.1:${port}/health/ready`);
    expect(worker.ports).toBeUndefined();
  });

  it('passes the operations settings through to both roles', () => {
    for (const service of ['api', 'worker']) {
      const env = Object.keys(compose.services[service].environment ?? {});
      for (const name of ['LOG_FORMAT', 'METRICS_TOKEN', 'WORKER_HEARTBEAT_S', 'ADMIN_TOKEN'])
        expect(env).toContain(name);
    }
  });

  it('points the worker at the bundled mock upstream only when no upstream is configured', () => {
    expect(compose.services.worker.environment!.UPSTREAM_BASE_URL).toBe(
      '${UPSTREAM_BASE_URL:-http://mock-upstream:4010/v1}',
    );
    expect(compose.services['mock-upstream'].command).toEqual(pkg.scripts['start:mock'].split(' '));
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  it('is multi-stage on a pinned LTS Node and runs as a non-root user', () => {
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms).toHaveLength(2);
    for (const image of froms) expect(image).toMatch(/^node:(2[02468])\.\d+\.\d+-/); // even majors are LTS
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});
