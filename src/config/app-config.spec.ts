import { ConfigError, loadConfig } from './app-config';

const base = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  MONGODB_URI: 'mongodb://127.0.0.1:27017/db',
  API_KEYS: 'sk-a:alice',
};

function problems(env: Record<string, string>, role: 'api' | 'worker' = 'api'): string[] {
  try {
    loadConfig(env, role);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
}

describe('loadConfig', () => {
  it('reads a valid api environment with defaults', () => {
    const c = loadConfig({ ...base, PORT: '8080', API_KEYS: 'sk-a:alice, sk:with:colon:bob' }, 'api');
    expect(c.port).toBe(8080);
    expect(c.workerConcurrency).toBe(10);
    expect(c.upstreamTimeouts.timeoutMs).toBe(600_000);
    expect([...c.apiKeys]).toEqual([
      ['sk-a', 'alice'],
      ['sk:with:colon', 'bob'],
    ]);
  });

  it('lists every bad value at once, naming the variable', () => {
    const found = problems({
      REDIS_URL: 'http://x',
      MONGODB_URI: '',
      PORT: '70000',
      WORKER_CONCURRENCY: 'ten',
      API_KEYS: 'nokey',
    });
    expect(found).toEqual([
      'PORT must be an integer from 1 to 65535 (got "70000")',
      expect.stringMatching(/^REDIS_URL must be a redis: or rediss:\/\/ URL/),
      expect.stringMatching(/^MONGODB_URI is required/),
      expect.stringMatching(/^API_KEYS entry 1 must look like key:userId/),
      'WORKER_CONCURRENCY must be an integer from 1 to 1000 (got "ten")',
    ]);
  });

  it('reads REDIS_CLUSTER_NODES instead of REDIS_URL, and names a bad entry', () => {
    const { REDIS_URL: _url, ...noUrl } = base;
    expect(problems(noUrl)).toEqual([expect.stringMatching(/^REDIS_URL is required/)]);
    const c = loadConfig({ ...noUrl, REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,[::1]:7002' }, 'api');
    expect(c.redisClusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(loadConfig(base, 'api').redisClusterNodes).toEqual([]);
    expect(problems({ ...noUrl, REDIS_CLUSTER_NODES: '10.0.0.1:7000,nohost,h:99999' })).toEqual([
      'REDIS_CLUSTER_NODES entry 2 must look like host:port (got "nohost")',
      'REDIS_CLUSTER_NODES entry 3 must look like host:port (got "h:99999")',
    ]);
  });

  it('never echoes a secret-bearing value back', () => {
    const found = problems({ ...base, REDIS_URL: 'redis//:supersecret@host', API_KEYS: 'sk-secret-value' });
    expect(found.join('\n')).not.toContain('supersecret');
    expect(found.join('\n')).not.toContain('sk-secret-value');
  });

  it('requires API_KEYS for the api and UPSTREAM_BASE_URL for the worker only', () => {
    expect(problems({ ...base, API_KEYS: '' }, 'api')).toEqual([expect.stringMatching(/^API_KEYS is required/)]);
    expect(problems({ ...base, API_KEYS: '' }, 'worker')).toEqual([
      expect.stringMatching(/^UPSTREAM_BASE_URL is required/),
    ]);
    expect(problems({ ...base, API_KEYS: '', UPSTREAM_BASE_URL: 'http://127.0.0.1:4010/v1' }, 'worker')).toEqual([]);
  });

  it('rejects duplicate keys and bad user ids', () => {
    expect(problems({ ...base, API_KEYS: 'k1:a,k1:b' })).toEqual([
      'API_KEYS entry 2 repeats a key that was already listed',
    ]);
    expect(problems({ ...base, API_KEYS: 'k1:a b' })).toEqual([expect.stringMatching(/userId must be/)]);
  });
});
