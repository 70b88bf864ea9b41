import { z } from 'zod';
import { statusOf } from '../../http/api-exception.filter';
import { AppError } from '../errors';
import { listQuerySchema, metadataSchema } from './common';
import { parseRequest } from './parse';
import { checkStorable, MAX_JSON_DEPTH, MAX_STORED_REQUEST_BYTES } from './storable';

/** The error a client would see: its HTTP status, param and code. */
function errorOf(fn: () => unknown): { status: number; param: string | null; code: string | null } {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return { status: statusOf(err), param: err.param, code: err.code };
    throw err;
  }
  throw new Error('expected an AppError');
}

const validateMetadata = (value: unknown) =>
  parseRequest(z.object({ metadata: metadataSchema }), { metadata: value }).metadata;
const parseListQuery = (
  query: Record<string, unknown>,
  defaults: { order: 'asc' | 'desc'; limit: number; max: number },
) => parseRequest(listQuerySchema(defaults), query);

describe('validateMetadata', () => {
  it('accepts up to 16 pairs at the length limits', () => {
    const m = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${i}`.padEnd(64, 'k'), 'v'.repeat(512)]));
    expect(validateMetadata(m)).toEqual(m);
    expect(validateMetadata(null)).toBeNull();
    expect(validateMetadata(undefined)).toBeNull();
  });

  it('rejects each limit with a 400 that names the parameter', () => {
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    expect(errorOf(() => validateMetadata(tooMany))).toMatchObject({
      status: 400,
      param: 'metadata',
      code: 'object_above_max_properties',
    });
    expect(errorOf(() => validateMetadata({ ['k'.repeat(65)]: 'v' }))).toMatchObject({
      status: 400,
      param: 'metadata',
    });
    expect(errorOf(() => validateMetadata({ a: 'v'.repeat(513) }))).toMatchObject({ status: 400, param: 'metadata.a' });
    expect(errorOf(() => validateMetadata({ a: 1 }))).toMatchObject({
      status: 400,
      param: 'metadata.a',
      code: 'invalid_type',
    });
    expect(errorOf(() => validateMetadata([1]))).toMatchObject({ status: 400, param: 'metadata' });
  });
});

describe('parseListQuery', () => {
  const defaults = { order: 'desc' as const, limit: 20, max: 100 };
  it('applies defaults and parses values', () => {
    expect(parseListQuery({}, defaults)).toEqual({ after: undefined, limit: 20, order: 'desc' });
    expect(parseListQuery({ limit: '100', order: 'asc', after: 'msg_1' }, defaults)).toEqual({
      after: 'msg_1',
      limit: 100,
      order: 'asc',
    });
  });
  it.each([['0'], ['101'], ['1.5'], ['abc'], [['1', '2']]])('rejects limit %j', (limit) => {
    expect(errorOf(() => parseListQuery({ limit }, defaults))).toMatchObject({ status: 400, param: 'limit' });
  });
  it('rejects a bad order or after', () => {
    expect(errorOf(() => parseListQuery({ order: 'up' }, defaults))).toMatchObject({ param: 'order' });
    expect(errorOf(() => parseListQuery({ after: ['a'] }, defaults))).toMatchObject({ param: 'after' });
  });
});

describe('checkStorable', () => {
  const nested = (depth: number): unknown => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);

  it('accepts ordinary request bodies and nesting up to the limit', () => {
    expect(() =>
      checkStorable({
        model: 'm',
        input: [{ role: 'user', content: [{ type: 'input_text', text: 'hé' }] }],
        n: -0,
        x: null,
      }),
    ).not.toThrow();
    expect(() => checkStorable({ a: nested(MAX_JSON_DEPTH - 1) })).not.toThrow();
  });

  it('refuses deeper nesting with a 400 naming the path, without recursion even at 100k levels', () => {
    expect(errorOf(() => checkStorable({ a: nested(MAX_JSON_DEPTH) }))).toMatchObject({
      status: 400,
      code: 'nesting_too_deep',
    });
    expect(errorOf(() => checkStorable({ a: { b: nested(100_000) } }))).toMatchObject({
      status: 400,
      param: expect.stringMatching(/^a\.b\[0\]/),
    });
  });

  it('refuses NUL in field names and numbers JSON cannot carry', () => {
    expect(errorOf(() => checkStorable({ q: [1, { 'r\u0000s': 1 }] }))).toMatchObject({
      status: 400,
      param: 'q[1].r\u0000s',
    });
    expect(errorOf(() => checkStorable(JSON.parse('{"q":[1,{"r":1e400}]}')))).toMatchObject({
      status: 400,
      param: 'q[1].r',
      code: 'invalid_value',
    });
  });

  it('refuses content too large for the record with a 413, copies stored twice counted twice', () => {
    const half = 'x'.repeat(MAX_STORED_REQUEST_BYTES / 2 + 10);
    expect(() => checkStorable({ input: half })).not.toThrow();
    expect(errorOf(() => checkStorable({ input: half }, [half]))).toMatchObject({
      status: 413,
      code: 'request_too_large',
    });
    // BSON spends far more than JSON on long arrays of small numbers.
    expect(errorOf(() => checkStorable({ n: new Array(1_000_000).fill(1) }))).toMatchObject({ status: 413 });
  });
});
