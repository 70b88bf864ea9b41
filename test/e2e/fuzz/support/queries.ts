/** The arbitraries of the list and usage properties: a chat list query part by part, and usage date ranges. */
import fc from 'fast-check';
import { enc, text } from './arbitraries';
import { real } from './world';

/**
 * GET /v1/chat/completions query parts (limit, order, after, model, metadata), each empty, valid or invalid (then
 * naming the parameter it breaks), and whether to ask for an unknown `after`. Call it after setup (it picks real ids).
 */
export function chatListQuery() {
  type P = { q: string; bad: string | null };
  const pick = (name: string, valid: fc.Arbitrary<string>, invalid: fc.Arbitrary<string>): fc.Arbitrary<P> =>
    fc.oneof(
      { weight: 2, arbitrary: fc.constant({ q: '', bad: null }) },
      { weight: 3, arbitrary: valid.map((v) => ({ q: `${name}=${enc(v)}`, bad: null })) },
      { weight: 1, arbitrary: invalid.map((v) => ({ q: v, bad: name })) },
    );
  const limit = pick(
    'limit',
    fc.integer({ min: 1, max: 100 }).map(String),
    fc
      .oneof(fc.constantFrom('0', '101', '-1', '1.5', '1e2', '', ' 1', '0x10', '99999999999999999999'), text(6))
      .filter((v) => !/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 100)
      .map((v) => `limit=${enc(v)}`)
      .chain((q) => fc.constantFrom(q, 'limit[]=1', 'limit[a]=1', 'limit=1&limit=2')),
  );
  const order = pick(
    'order',
    fc.constantFrom('asc', 'desc'),
    fc.oneof(
      text(6)
        .filter((v) => v !== 'asc' && v !== 'desc')
        .map((v) => `order=${enc(v)}`),
      fc.constantFrom('order[]=asc', 'order=asc&order=desc'),
    ),
  );
  const after = pick(
    'after',
    fc.constantFrom(...real.storedChats, real.bgChat),
    fc.oneof(fc.constantFrom('after=', `after=${'a'.repeat(129)}`, 'after[]=x', 'after[$ne]=x')),
  );
  const unknownAfter = fc.oneof(
    { weight: 5, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  );
  const model = pick(
    'model',
    fc.oneof(
      fc.constant('gpt-fuzz'),
      text(20).filter((v) => v.length > 0 && v.length <= 256 && !v.includes('\u0000')),
    ),
    fc.constantFrom('model=', `model=${'m'.repeat(257)}`, 'model[]=a', 'model[$ne]=x', 'model=a&model=b'),
  );
  const metaPair = fc.tuple(text(12), text(20));
  const metadata = fc.oneof(
    { weight: 3, arbitrary: fc.constant({ q: '', bad: null }) },
    { weight: 3, arbitrary: fc.constant({ q: 'metadata[project]=fuzz', bad: null }) },
    fc
      .array(
        metaPair.filter(
          ([k, v]) =>
            /^[^.$\u0000[\]]{1,64}$/.test(k) &&
            !/^[\s\u0085]|[\s\u0085]$/.test(k) &&
            !/^\d+$/.test(k) &&
            k !== '__proto__' &&
            v.length <= 512,
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((pairs) => ({
        // Distinct keys, each key=value once.
        q: [...new Map(pairs).entries()].map(([k, v]) => `metadata[${enc(k)}]=${enc(v)}`).join('&'),
        bad: null,
      })),
    fc
      .constantFrom(
        'metadata=x',
        'metadata[a.b]=x',
        'metadata[$where]=1',
        'metadata[%20a]=1',
        'metadata[a%09]=1',
        'metadata[a][b]=x',
        `metadata[a]=${'v'.repeat(513)}`,
        'metadata[]=x',
        `metadata[${'k'.repeat(65)}]=v`,
        'metadata[%00]=x',
      )
      .map((q) => ({ q, bad: 'metadata' })),
  );
  return { limit, order, after, model, metadata, unknownAfter };
}

/** GET /v1/usage start_date, end_date (either may be absent) and extra query text. */
export function usageDates() {
  const day = fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .date({ min: new Date('1960-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10)),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '0000-01-01',
        '1970-01-01',
        '1969-12-31',
        '2024-02-29',
        '2023-02-29',
        '2024-13-01',
        '2024-00-10',
        '2024-1-1',
        '+02024-01-01',
        '2024-01-01T00:00:00Z',
        '20240101',
        '',
        '9999-12-31',
        '275760-09-13',
      ),
    },
    { weight: 2, arbitrary: text(12) },
  );
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const range = fc
    .tuple(
      fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2099-01-01T00:00:00Z'), noInvalidDate: true }),
      fc.integer({ min: -3, max: 400 }),
    )
    .map(([d, days]) => [iso(d.getTime()), iso(d.getTime() + days * 86_400_000)] as [string, string]);
  const extras = fc.oneof(
    { weight: 4, arbitrary: fc.constant('') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '&start_date[]=2024-01-01',
        '&end_date[a]=1',
        '&start_date=2024-01-01&start_date=2024-01-02',
        '&x=1',
      ),
    },
  );
  const q = fc.oneof(
    fc.tuple(fc.option(day, { nil: undefined }), fc.option(day, { nil: undefined }), extras),
    fc.tuple(range, extras).map(([[a, b], extra]) => [a, b, extra] as [string, string, string]),
    fc.tuple(
      fc.constant(undefined),
      fc
        .date({ min: new Date('1970-02-01T00:00:00Z'), max: new Date('2099-01-01T00:00:00Z'), noInvalidDate: true })
        .map((d) => iso(d.getTime())),
      extras,
    ),
  );
  return q;
}
