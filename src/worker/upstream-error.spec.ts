import { RetryableJobError } from './call-runner.service';
import { backoffDelay } from './backoff';
import { isRetryableStatus, networkError, parseRetryAfter } from './upstream-error';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads seconds, milliseconds and HTTP dates', () => {
    expect(parseRetryAfter({ 'retry-after': '2' }, now)).toBe(2000);
    expect(parseRetryAfter({ 'retry-after-ms': '150' }, now)).toBe(150);
    expect(parseRetryAfter({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }, now)).toBe(3000);
    expect(parseRetryAfter({}, now)).toBeNull();
    expect(parseRetryAfter({ 'retry-after': 'soon' }, now)).toBeNull();
  });
});

describe('classification', () => {
  it('retries 408, 409, 429 and 5xx but not other 4xx', () => {
    expect([400, 401, 403, 404, 422].map(isRetryableStatus)).toEqual([false, false, false, false, false]);
    expect([408, 409, 429, 500, 502, 503, 504, 599].map(isRetryableStatus)).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
  });
  it('retries resets and timeouts', () => {
    expect(networkError({ code: 'ECONNRESET' }).retryable).toBe(true);
    expect(networkError({ code: 'UND_ERR_HEADERS_TIMEOUT' })).toMatchObject({
      retryable: true,
      message: expect.stringContaining('did not answer in time'),
    });
    expect(networkError({ cause: { code: 'ECONNREFUSED' } }).retryable).toBe(true);
  });
});

describe('backoffDelay', () => {
  it('uses Retry-After when the upstream gave one, capped', () => {
    expect(backoffDelay(1, new RetryableJobError('x', 1500), 100)).toBe(1500);
    expect(backoffDelay(1, new RetryableJobError('x', 10_000_000), 100)).toBe(60_000);
  });
  it('grows exponentially with jitter inside [exp/2, exp]', () => {
    for (const attempt of [1, 2, 3, 4]) {
      const exp = 100 * 2 ** (attempt - 1);
      const d = backoffDelay(attempt, new Error('x'), 100);
      expect(d).toBeGreaterThanOrEqual(exp / 2);
      expect(d).toBeLessThanOrEqual(exp);
    }
  });
});
