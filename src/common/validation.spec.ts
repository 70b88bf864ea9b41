import { ApiError } from './api-error';
import { parseListQuery, validateMetadata } from './validation';

function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('validateMetadata', () => {
  it('accepts up to 16 pairs at the length limits', () => {
    const m = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${i}`.padEnd(64, 'k'), 'v'.repeat(512)]));
    expect(validateMetadata(m)).toBe(m);
    expect(validateMetadata(null)).toBeNull();
    expect(validateMetadata(undefined)).toBeNull();
  });

  it('rejects each limit with a 400 that names the parameter', () => {
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    expect(errorOf(() => validateMetadata(tooMany))).toMatchObject({ status: 400, param: 'metadata', code: 'object_above_max_properties' });
    expect(errorOf(() => validateMetadata({ ['k'.repeat(65)]: 'v' }))).toMatchObject({ status: 400, param: 'metadata' });
    expect(errorOf(() => validateMetadata({ a: 'v'.repeat(513) }))).toMatchObject({ status: 400, param: 'metadata.a' });
    expect(errorOf(() => validateMetadata({ a: 1 }))).toMatchObject({ status: 400, param: 'metadata.a', code: 'invalid_type' });
    expect(errorOf(() => validateMetadata([1]))).toMatchObject({ status: 400, param: 'metadata' });
  });
});

describe('parseListQuery', () => {
  const defaults = { order: 'desc' as const, limit: 20, max: 100 };
  it('applies defaults and parses values', () => {
    expect(parseListQuery({}, defaults)).toEqual({ after: undefined, limit: 20, order: 'desc' });
    expect(parseListQuery({ limit: '100', order: 'asc', after: 'msg_1' }, defaults)).toEqual({ after: 'msg_1', limit: 100, order: 'asc' });
  });
  it.each([['0'], ['101'], ['1.5'], ['abc'], [['1', '2']]])('rejects limit %j', (limit) => {
    expect(errorOf(() => parseListQuery({ limit }, defaults))).toMatchObject({ status: 400, param: 'limit' });
  });
  it('rejects a bad order or after', () => {
    expect(errorOf(() => parseListQuery({ order: 'up' }, defaults))).toMatchObject({ param: 'order' });
    expect(errorOf(() => parseListQuery({ after: ['a'] }, defaults))).toMatchObject({ param: 'after' });
  });
});
