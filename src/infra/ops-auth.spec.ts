import { testConfig } from '../../test/support/fakes';
import { bootSummary, withoutCredentials } from '../config/boot-summary';
import { metricsAllowed, tokenMatches, within } from './ops-auth';
import { formatReset, rateLimitHeaders } from './rate-limiter.service';

const METRICS = 'metrics-token-0123456789';
const ADMIN = 'admin-token-0123456789ab';

describe('metricsAllowed', () => {
  it('is open without METRICS_TOKEN, even when ADMIN_TOKEN is set', () => {
    expect(metricsAllowed(testConfig({ ADMIN_TOKEN: ADMIN }), undefined)).toBe(true);
  });

  it('with METRICS_TOKEN, wants it or ADMIN_TOKEN as a Bearer token', () => {
    const config = testConfig({ METRICS_TOKEN: METRICS, ADMIN_TOKEN: ADMIN });
    expect(metricsAllowed(config, `Bearer ${METRICS}`)).toBe(true);
    expect(metricsAllowed(config, `bearer ${ADMIN}`)).toBe(true);
    expect(metricsAllowed(config, undefined)).toBe(false);
    expect(metricsAllowed(config, METRICS)).toBe(false);
    expect(metricsAllowed(config, `Bearer ${METRICS}x`)).toBe(false);
    expect(metricsAllowed(config, `Basic ${Buffer.from(`u:${METRICS}`).toString('base64')}`)).toBe(false);
  });

  it('without ADMIN_TOKEN, only METRICS_TOKEN opens it', () => {
    const config = testConfig({ METRICS_TOKEN: METRICS });
    expect(metricsAllowed(config, `Bearer ${ADMIN}`)).toBe(false);
    expect(tokenMatches(null, [METRICS])).toBe(false);
    expect(tokenMatches('', [undefined, ''])).toBe(false);
  });
});

describe('within', () => {
  it('fails a step that does not answer in time, and passes one that does', async () => {
    await expect(within(20, 'redis', new Promise(() => undefined))).rejects.toThrow(
      'redis did not answer within 20 ms',
    );
    await expect(within(1000, 'redis', Promise.resolve(7))).resolves.toBe(7);
  });
});

describe('x-ratelimit-*-requests', () => {
  it('formats the reset as OpenAI does and reports what is left', () => {
    expect(formatReset(17)).toBe('17ms');
    expect(formatReset(999.2)).toBe('1000ms');
    expect(formatReset(1000)).toBe('1s');
    expect(formatReset(12_300)).toBe('13s');
    expect(formatReset(65_000)).toBe('1m5s');
    expect(rateLimitHeaders({ limit: 60, remaining: 59, resetMs: 60_000 })).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '1m0s',
    });
  });
});

describe('bootSummary', () => {
  it('names routes and stores without credentials or keys', () => {
    const config = testConfig({
      UPSTREAM_BASE_URL: 'https://upstream.example/v1',
      UPSTREAM_API_KEY: 'sk-upstream-secret-xyz',
      REDIS_URL: 'redis://:redispass@redis.example:6380/2',
      MONGODB_URI: 'mongodb://admin:mongopass@mongo.example:27017/jobs',
    });
    const text = JSON.stringify(bootSummary(config));
    for (const secret of ['sk-upstream', 'redispass', 'mongopass', 'admin:']) expect(text).not.toContain(secret);
    expect(text).toContain('https://upstream.example/v1');
    expect(text).toContain('redis://redis.example:6380/2');
    expect(text).toContain('mongodb://mongo.example:27017/jobs');
    expect(withoutCredentials('not a url')).toBe('(unparsable URL)');
  });
});
