import { MAX_JSON_DEPTH } from '../domain/requests/storable';
import { refuseDeepJson } from './json-depth';

const check = (text: string) => () => refuseDeepJson(null, null, Buffer.from(text));
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('refuseDeepJson', () => {
  it('lets bodies up to the depth limit through, and counts brackets in strings as text', () => {
    expect(check(nested(MAX_JSON_DEPTH))).not.toThrow();
    expect(check(`{"a":"${'['.repeat(500)}","b":"\\"[[[["}`)).not.toThrow();
  });

  it('refuses one level more, as a 400 the filter recognises, without parsing', () => {
    expect(check(nested(MAX_JSON_DEPTH + 1))).toThrow(
      expect.objectContaining({ status: 400, type: 'entity.too.deep' }),
    );
    expect(check(`{"a":${'{"b":'.repeat(100)}1${'}'.repeat(100)}}`)).toThrow(/nested deeper than/);
  });
});
