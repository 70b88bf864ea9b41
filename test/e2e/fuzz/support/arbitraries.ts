/**
 * The arbitraries every family draws from: characters of every kind (lone surrogates, graphemes, characters with a
 * meaning somewhere), JSON of the wrong type for a field, path segments and query strings, deep nesting, the
 * Authorization header values fetch can send, and valid request bodies to start from.
 */
import fc from 'fast-check';
import { KEYS } from '../../../support/stack';
import { ADMIN_TOKEN } from './config';

/** Lone surrogates cannot travel in a URL (they have no UTF-8): they become U+FFFD there; JSON bodies keep them. */
export const wellFormed = (s: string) =>
  s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
export const enc = (s: string) => encodeURIComponent(wellFormed(s));

export const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
export const specialChar = fc.constantFrom(
  '\u0000',
  '"',
  '\\',
  '%',
  '&',
  '=',
  '[',
  ']',
  '.',
  '$',
  '/',
  '?',
  '#',
  ' ',
  '\n',
  '\t',
  '\u202e',
  '\ufeff',
  '\u2028',
  '+',
  ';',
  ',',
);
/** One "character": any code point, a grapheme, a lone surrogate or a character with a meaning somewhere. */
export const anyChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 2, arbitrary: specialChar },
);
export const text = (maxLength = 24) => fc.string({ unit: anyChar, maxLength });
/** Long strings, up to a few thousand characters, unicode included. */
export const longText = fc
  .tuple(text(4), fc.integer({ min: 200, max: 5000 }))
  .map(([s, n]) => (s || 'x').repeat(Math.ceil(n / Math.max(1, s.length))).slice(0, n));
export const someText = fc.oneof({ weight: 4, arbitrary: text() }, { weight: 1, arbitrary: longText });
export const anyJson = fc.jsonValue({ maxDepth: 3, stringUnit: anyChar });
export const safeKey = fc
  .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_0123456789'.split('')), minLength: 1, maxLength: 12 })
  .filter((k) => !k.startsWith('mock_'));

// Wrong JSON types, by the type a field wants. null is left out (it means "absent" for optional fields).
export const nonString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(anyJson, { maxLength: 3 }),
  fc.dictionary(text(8), anyJson, { maxKeys: 3 }),
);
export const nonBoolean = fc.oneof(
  fc.constantFrom('yes', 'true', 'false', 'on', '1', 1, 0, ''),
  fc.integer(),
  text(),
  fc.array(anyJson, { maxLength: 2 }),
  fc.dictionary(text(8), anyJson, { maxKeys: 2 }),
);
export const nonObject = fc.oneof(fc.integer(), fc.boolean(), text(), fc.array(anyJson, { maxLength: 3 }));
export const nonArray = fc.oneof(fc.integer(), fc.boolean(), text(), fc.dictionary(text(8), anyJson, { maxKeys: 3 }));
export const nonStringValueMetadata = fc
  .tuple(
    safeKey,
    nonString.filter((v) => v !== null),
  )
  .map(([k, v]) => ({ [k]: v }));

/** A path segment: a real id, a random string (percent-encoded), a long one, or raw URL junk. */
export const idSegment = (realIds: () => string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...realIds()).map(enc) },
    {
      weight: 3,
      arbitrary: text(40)
        .filter((s) => s !== '')
        .map(enc),
    },
    { weight: 1, arbitrary: fc.integer({ min: 129, max: 6000 }).map((n) => 'resp_'.padEnd(n, 'a')) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...realIds()), text(3)).map(([id, s]) => enc(id + s)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '%',
        '%zz',
        '%ff',
        '%c3%28',
        '%00',
        '%2F',
        '%2e%2e',
        'a%20b',
        ' ',
        'resp_',
        'chatcmpl-',
        '__proto__',
        'constructor',
        'x'.repeat(128),
        'x'.repeat(129),
      ),
    },
  );

/** A query string: known parameters with random values, bracket forms, junk; raw or encoded. */
export const queryString = (known: string[], values: fc.Arbitrary<string> = someText) =>
  fc
    .array(
      fc.tuple(
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...known) },
          {
            weight: 2,
            arbitrary: fc
              .tuple(
                fc.constantFrom(...known),
                fc.constantFrom('[]', '[0]', '[a]', '[a][b]', '[__proto__]', '[$ne]', '[21]'),
              )
              .map(([k, s]) => k + s),
          },
          { weight: 1, arbitrary: text(10) },
        ),
        values,
        fc.boolean(),
      ),
      { maxLength: 6 },
    )
    .chain((pairs) =>
      fc.oneof(
        {
          weight: 6,
          arbitrary: fc.constant(
            pairs
              .map(([k, v, raw]) => (raw ? `${encodeURI(wellFormed(k))}=${enc(v)}` : `${enc(k)}=${enc(v)}`))
              .join('&'),
          ),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            '%',
            '&&&',
            '=',
            '==&=',
            '%zz=1',
            'a[=1',
            'a]=1',
            '[]=1',
            'a[b]c=1',
            '&'.repeat(2000),
            'a[][][][][][][][][][][][]=1',
          ),
        },
      ),
    )
    .map((q) => (q ? `?${q}` : ''));

/** Deep nesting, arrays or objects, up to 12k levels. */
export const deepJson = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 65, max: 300 }), fc.integer({ min: 1000, max: 12_000 }), fc.constant(10_000)),
    kind: fc.constantFrom('array', 'object', 'mixed'),
  })
  .map(({ depth, kind }) => {
    let open = '';
    let close = '';
    for (let i = 0; i < depth; i++) {
      const arr = kind === 'array' || (kind === 'mixed' && i % 2 === 0);
      open += arr ? '[' : '{"a":';
      close = (arr ? ']' : '}') + close;
    }
    return { depth, json: `${open}1${close}` };
  });

/** Authorization header values fetch can send (latin1), valid ones included. */
export const authHeader = fc.oneof(
  fc.constantFrom(
    `Bearer ${KEYS.alice}`,
    `bearer ${KEYS.alice}`,
    `BEARER   ${KEYS.alice}`,
    `Bearer\t${KEYS.alice}`,
    `Bearer ${ADMIN_TOKEN}`,
  ),
  fc.constantFrom(
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'Basic eDp5',
    'Basic x',
    'Token sk-test-alice-0001',
    `Bearer ${KEYS.alice} extra`,
    `Bearer ${KEYS.alice},Bearer ${KEYS.bob}`,
    `bearer ${KEYS.alice}`,
    `BEARER   ${KEYS.alice}`,
    `Bearer\t${KEYS.alice}`,
    `Bearer ${KEYS.alice}x`,
    `Bearer ${ADMIN_TOKEN}`,
    'Bearer sk-\u00e9\u00ff\u00a0',
    `Bearer ${'k'.repeat(512)}`,
    `Bearer ${'k'.repeat(513)}`,
  ),
  fc.integer({ min: 1000, max: 14_000 }).map((n) => `Bearer ${'k'.repeat(n)}`),
  fc
    .string({
      unit: fc
        .integer({ min: 0x21, max: 0xff })
        .filter((c) => c !== 0x7f)
        .map((c) => String.fromCharCode(c)),
      maxLength: 80,
    })
    .map((s) => `Bearer ${s}`),
);
export const bearerKey = (h: string | undefined) => (h === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(h)?.[1]);

// Valid request bodies to start from.
export const validResponse = () => ({ model: 'gpt-fuzz', input: 'Hello', background: true });
export const validChat = () => ({ model: 'gpt-fuzz', messages: [{ role: 'user', content: 'Hi' }], background: true });
