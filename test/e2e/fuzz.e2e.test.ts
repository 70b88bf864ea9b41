/**
 * Property-based fuzzing of every api endpoint, end to end: the built api and worker as separate
 * processes, real Redis and MongoDB wire server, the MOCK upstream with zero latency. fast-check
 * generates request bodies, query strings, headers and ids, sent with raw fetch (the SDK would
 * validate client side) or, for bytes fetch refuses to send, over a raw socket. For every answer:
 *
 *   - never a 5xx and never a hang (every request is bounded); a 4xx, or a 2xx where the random
 *     input happens to be valid (decided per case below, exactly where an oracle is simple);
 *   - errors in the family's envelope: OpenAI's {"error":{message,type,param,code}} for /v1,
 *     /admin and unknown routes, OhMyGPT's {statusCode,message,data:null} under /api/v1/ai/;
 *   - an x-request-id header, errors and refusals by Node's HTTP parser included;
 *
 * and at the end the api still answers /health and its log has no "unhandled error".
 *
 * Runs are reproducible: a fixed seed (FUZZ_SEED to change it) and FUZZ_RUNS runs per property
 * (default 25); the file takes about 20-30 s on 2 cores. A failure names the seed and the
 * counterexample path to replay it, and the failing request. Shrinking is off to keep a failing
 * run bounded (FUZZ_SHRINK=1 turns it on); FUZZ_DEBUG=<class substring> prints every answer of
 * the matching classes. The statuses seen per class are printed at the end.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { waitFor } from '../support/env';
import { KEYS, type Stack, startStack, UPSTREAM_KEY } from '../support/stack';

const SEED = Number(process.env.FUZZ_SEED ?? 7202025);
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const SHRINK = process.env.FUZZ_SHRINK === '1';
/** A request not answered within this is a hang. */
const REQUEST_TIMEOUT_MS = 10_000;
const ADMIN_TOKEN = 'fuzz-admin-token-0123456789abcdef';
// A property makes at most a few hundred ms of requests per run; bigger FUZZ_RUNS get more time.
jest.setTimeout(Math.max(60_000, RUNS * 1_500));
const AUTH = { authorization: `Bearer ${KEYS.alice}` };
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const JSON_CT = { 'content-type': 'application/json' };
const FORM_CT = { 'content-type': 'application/x-www-form-urlencoded' };
const OMG = '/api/v1/ai/openai/v1/chat';
const OMG_ACTIONS = ['list-completions-data', 'get-completion-data', 'delete-completion-data'] as const;

let mock: MockUpstream;
let stack: Stack;
let base: string;

/** Records made in setup, so that ids also hit real data (and 2xx paths). */
const real = {
  bgResponses: [] as string[],
  syncResponse: '',
  cancelledResponse: '',
  storedChats: [] as string[],
  bgChat: '',
  unstoredChat: '',
  keyIds: [] as string[],
  /** Only the deleting properties pick these. */
  victimResponses: [] as string[],
  victimChats: [] as string[],
};
const allResponseIds = () => [...real.bgResponses, real.syncResponse, real.cancelledResponse];
const allChatIds = () => [...real.storedChats, real.bgChat, real.unstoredChat];

// ---------------------------------------------------------------------------------------------
// Sending and checking

interface Req {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

interface Answer {
  status: number;
  requestId: string | null;
  contentType: string;
  text: string;
  ms: number;
}

type Family = 'openai' | 'ohmygpt';

/** Status counts per endpoint class, printed once at the end (what the run covered). */
const tally = new Map<string, Map<number, number>>();
const slowest = new Map<string, number>();

function describeReq(r: Req): string {
  const body = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : Buffer.from(r.body).toString('latin1');
  const headers = JSON.stringify(r.headers ?? {});
  return `${r.method} ${r.path.slice(0, 300)}${r.path.length > 300 ? `...(${r.path.length})` : ''} headers=${headers.slice(0, 300)} body=${JSON.stringify(body.slice(0, 300))}${body.length > 300 ? `...(${body.length})` : ''}`;
}

async function send(r: Req): Promise<Answer> {
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(base + r.path, {
      method: r.method,
      headers: r.headers,
      body: r.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    return {
      status: res.status,
      requestId: res.headers.get('x-request-id'),
      contentType: res.headers.get('content-type') ?? '',
      text,
      ms: Date.now() - started,
    };
  } catch (err) {
    const e = err as Error;
    const hang = e.name === 'TimeoutError' || e.name === 'AbortError';
    throw new Error(
      `${hang ? `no complete answer within ${REQUEST_TIMEOUT_MS} ms (hang)` : `request failed: ${e.message} (${String((e as { cause?: unknown }).cause)})`}: ${describeReq(r)}`,
    );
  }
}

interface Expectation {
  family: Family;
  /** Which statuses are acceptable for this input; every one is checked against its envelope. */
  allow: (status: number) => boolean;
  /** Extra checks on an error body (e.g. the param it names). */
  error?: (body: { message: string; param: string | null; code: string | null }, a: Answer) => void;
  /** Extra checks on a 2xx body. */
  ok?: (a: Answer) => void;
}

const is4xx = (s: number) => s >= 400 && s < 500;
const is4xxOr200 = (s: number) => s === 200 || is4xx(s);
const only =
  (...statuses: number[]) =>
  (s: number) =>
    statuses.includes(s);

/** The property every answer must hold; throws with the request and the answer on a violation. */
function check(cls: string, r: Req, a: Answer, exp: Expectation): void {
  const counts = tally.get(cls) ?? new Map<number, number>();
  counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
  tally.set(cls, counts);
  slowest.set(cls, Math.max(slowest.get(cls) ?? 0, a.ms));
  if (process.env.FUZZ_DEBUG && cls.includes(process.env.FUZZ_DEBUG))
    process.stdout.write(`${cls} ${a.status} ${a.text.slice(0, 160)}\n`);
  try {
    if (a.status >= 500) throw new Error(`a ${a.status}`);
    if (!exp.allow(a.status)) throw new Error(`status ${a.status} is not acceptable here`);
    if (!/^req_[0-9a-f]{32}$/.test(a.requestId ?? ''))
      throw new Error(`x-request-id missing or malformed: ${a.requestId}`);
    if (a.status >= 400) {
      const body = parseJson(a.text);
      if (exp.family === 'openai') {
        if (!isPlainObject(body) || Object.keys(body).join() !== 'error')
          throw new Error('not in the OpenAI error envelope');
        const e = body.error;
        if (!isPlainObject(e) || Object.keys(e).sort().join() !== 'code,message,param,type')
          throw new Error('error object without exactly message, type, param, code');
        if (typeof e.message !== 'string' || e.message === '' || typeof e.type !== 'string')
          throw new Error('error message/type not non-empty strings');
        if (e.param !== null && typeof e.param !== 'string') throw new Error('error.param neither string nor null');
        if (e.code !== null && typeof e.code !== 'string') throw new Error('error.code neither string nor null');
        exp.error?.(e as { message: string; param: string | null; code: string | null }, a);
      } else {
        if (!isPlainObject(body) || Object.keys(body).sort().join() !== 'data,message,statusCode')
          throw new Error('not in the OhMyGPT envelope');
        if (
          body.statusCode !== a.status ||
          body.data !== null ||
          typeof body.message !== 'string' ||
          body.message === ''
        ) {
          throw new Error('OhMyGPT envelope with a wrong statusCode, data or message');
        }
        exp.error?.({ message: body.message as string, param: null, code: null }, a);
      }
    } else {
      if (a.contentType.startsWith('text/event-stream')) {
        // Possibly empty (a cancelled response has no terminal event), never anything but SSE lines.
        const bad = a.text.split('\n').find((l) => l !== '' && !/^(event|data|id|retry):|^:/.test(l));
        if (bad !== undefined) throw new Error(`not an event stream line: ${JSON.stringify(bad.slice(0, 100))}`);
      } else if (!isPlainObject(parseJson(a.text))) {
        throw new Error('a 2xx whose body is not a JSON object');
      }
      exp.ok?.(a);
    }
  } catch (err) {
    throw new Error(
      `[${cls}] ${(err as Error).message}\n  request: ${describeReq(r)}\n  answer: ${a.status} ${a.text.slice(0, 400)}`,
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('body is not JSON');
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function sendAndCheck(cls: string, r: Req, exp: Expectation): Promise<Answer> {
  const a = await send(r);
  check(cls, r, a, exp);
  return a;
}

/**
 * Runs a property; a failure names the seed and path to replay it and the failing request (not
 * fast-check's dump of the generated value, which for 12k-level JSON is unreadable).
 */
async function runProperty<T>(arb: fc.Arbitrary<T>, body: (v: T) => Promise<void>, runs = RUNS): Promise<void> {
  const out = await fc.check(fc.asyncProperty(arb, body), { seed: SEED, numRuns: runs, endOnFailure: !SHRINK });
  if (out.failed) {
    const cause = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
    throw new Error(
      `property failed after ${out.numRuns} run(s) (replay: seed ${out.seed}, path "${out.counterexamplePath}")\n${cause.slice(0, 3000)}`,
    );
  }
}

/**
 * A request over a raw socket, for bytes fetch will not send (UTF-8 in headers, broken request
 * lines). Answers the status, the headers and the body Node or the api sent back.
 */
function rawHttp(head: Buffer): Promise<Answer & { headers: Record<string, string> }> {
  const started = Date.now();
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `raw request: no answer within ${REQUEST_TIMEOUT_MS} ms (hang): ${JSON.stringify(head.toString('latin1').slice(0, 300))}`,
        ),
      );
    }, REQUEST_TIMEOUT_MS);
    socket.on('connect', () => socket.write(head));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined); // a reset after the answer is fine; no answer is caught below
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('utf8');
      const sep = raw.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(raw);
      if (!m || sep < 0)
        return reject(
          new Error(
            `raw request: no HTTP answer (${JSON.stringify(raw.slice(0, 200))}) to ${JSON.stringify(head.toString('latin1').slice(0, 300))}`,
          ),
        );
      const headers: Record<string, string> = {};
      for (const line of raw.slice(0, sep).split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      let text = raw.slice(sep + 4);
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) text = dechunk(text);
      resolve({
        status: Number(m[1]),
        requestId: headers['x-request-id'] ?? null,
        contentType: headers['content-type'] ?? '',
        text,
        ms: Date.now() - started,
        headers,
      });
    });
  });
}

function dechunk(s: string): string {
  let out = '';
  let rest = s;
  for (;;) {
    const nl = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, nl), 16);
    if (!(size > 0)) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Lone surrogates cannot travel in a URL (they have no UTF-8): they become U+FFFD there; JSON bodies keep them. */
const wellFormed = (s: string) =>
  s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
const enc = (s: string) => encodeURIComponent(wellFormed(s));

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const specialChar = fc.constantFrom(
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
const anyChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 2, arbitrary: specialChar },
);
const text = (maxLength = 24) => fc.string({ unit: anyChar, maxLength });
/** Long strings, up to a few thousand characters, unicode included. */
const longText = fc
  .tuple(text(4), fc.integer({ min: 200, max: 5000 }))
  .map(([s, n]) => (s || 'x').repeat(Math.ceil(n / Math.max(1, s.length))).slice(0, n));
const someText = fc.oneof({ weight: 4, arbitrary: text() }, { weight: 1, arbitrary: longText });
const anyJson = fc.jsonValue({ maxDepth: 3, stringUnit: anyChar });
const safeKey = fc
  .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_0123456789'.split('')), minLength: 1, maxLength: 12 })
  .filter((k) => !k.startsWith('mock_'));

// Wrong JSON types, by the type a field wants. null is left out (it means "absent" for optional fields).
const nonString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(anyJson, { maxLength: 3 }),
  fc.dictionary(text(8), anyJson, { maxKeys: 3 }),
);
const nonBoolean = fc.oneof(
  fc.constantFrom('yes', 'true', 'false', 'on', '1', 1, 0, ''),
  fc.integer(),
  text(),
  fc.array(anyJson, { maxLength: 2 }),
  fc.dictionary(text(8), anyJson, { maxKeys: 2 }),
);
const nonObject = fc.oneof(fc.integer(), fc.boolean(), text(), fc.array(anyJson, { maxLength: 3 }));
const nonArray = fc.oneof(fc.integer(), fc.boolean(), text(), fc.dictionary(text(8), anyJson, { maxKeys: 3 }));
const nonStringValueMetadata = fc
  .tuple(
    safeKey,
    nonString.filter((v) => v !== null),
  )
  .map(([k, v]) => ({ [k]: v }));

/** A path segment: a real id, a random string (percent-encoded), a long one, or raw URL junk. */
const idSegment = (realIds: () => string[]) =>
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
const queryString = (known: string[], values: fc.Arbitrary<string> = someText) =>
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
const deepJson = fc
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
const authHeader = fc.oneof(
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
const bearerKey = (h: string | undefined) => (h === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(h)?.[1]);

// Valid request bodies to start from.
const validResponse = () => ({ model: 'gpt-fuzz', input: 'Hello', background: true });
const validChat = () => ({ model: 'gpt-fuzz', messages: [{ role: 'user', content: 'Hi' }], background: true });

// ---------------------------------------------------------------------------------------------
// Setup

async function json(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = AUTH,
): Promise<Record<string, unknown>> {
  const res = await fetch(base + path, {
    method,
    headers: { ...headers, ...JSON_CT },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const out = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`setup ${method} ${path}: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

const finished = (s: unknown) => !['queued', 'in_progress'].includes(String(s));

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY, defaults: { latencyMs: 0, tokenDelayMs: 0 } });
  stack = await startStack({ upstreamUrl: mock.url, env: { ADMIN_TOKEN, SYNC_TIMEOUT_MS: '20000' } });
  base = stack.apiUrls[0];

  const bg = await Promise.all([
    json('POST', '/v1/responses', { model: 'gpt-fuzz', input: 'one', background: true, metadata: { project: 'fuzz' } }),
    json('POST', '/v1/responses', {
      model: 'gpt-fuzz',
      background: true,
      input: [
        { role: 'user', content: 'first' },
        { type: 'message', role: 'assistant', content: 'second' },
        { role: 'user', content: [{ type: 'input_text', text: 'third' }] },
      ],
    }),
    json('POST', '/v1/responses', { model: 'gpt-fuzz', input: 'victim', background: true }),
    json('POST', '/v1/responses', { model: 'gpt-fuzz', input: 'victim', background: true }),
  ]);
  real.bgResponses = bg.slice(0, 2).map((r) => r.id as string);
  real.victimResponses = bg.slice(2).map((r) => r.id as string);
  real.syncResponse = (await json('POST', '/v1/responses', { model: 'gpt-fuzz', input: 'sync' })).id as string;
  const slow = await json('POST', '/v1/responses', {
    model: 'gpt-fuzz',
    input: 'slow',
    background: true,
    metadata: { mock_latency_ms: '30000' },
  });
  real.cancelledResponse = (await json('POST', `/v1/responses/${slow.id as string}/cancel`)).id as string;

  const chats = await Promise.all([
    json('POST', '/v1/chat/completions', {
      model: 'gpt-fuzz',
      store: true,
      metadata: { project: 'fuzz' },
      messages: [
        { role: 'system', content: 'Be brief' },
        { role: 'user', content: 'Hi' },
      ],
    }),
    json('POST', '/v1/chat/completions', {
      model: 'gpt-fuzz-b',
      store: true,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
    }),
    json('POST', '/v1/chat/completions', {
      model: 'gpt-fuzz',
      background: true,
      messages: [{ role: 'user', content: 'Background' }],
    }),
    json('POST', '/v1/chat/completions', { model: 'gpt-fuzz', messages: [{ role: 'user', content: 'Not stored' }] }),
    json('POST', '/v1/chat/completions', {
      model: 'gpt-fuzz',
      store: true,
      messages: [{ role: 'user', content: 'victim' }],
    }),
    json('POST', '/v1/chat/completions', {
      model: 'gpt-fuzz',
      store: true,
      messages: [{ role: 'user', content: 'victim' }],
    }),
  ]);
  real.storedChats = chats.slice(0, 2).map((c) => c.id as string);
  real.bgChat = chats[2].id as string;
  real.unstoredChat = chats[3].id as string;
  real.victimChats = chats.slice(4).map((c) => c.id as string);

  real.keyIds = [(await json('POST', '/admin/keys', { user_id: 'fuzz-user', name: 'fuzz' }, ADMIN)).id as string];

  await waitFor(
    'setup records to finish',
    async () => {
      const states = await Promise.all([
        ...[...real.bgResponses, ...real.victimResponses].map((id) => json('GET', `/v1/responses/${id}`)),
        json('GET', `/v1/chat/completions/${real.bgChat}`),
      ]);
      return states.every((s) => finished(s.status)) ? true : undefined;
    },
    20_000,
    100,
  );
}, 90_000);

afterAll(async () => {
  const lines = [...tally].map(
    ([cls, counts]) =>
      `${cls.padEnd(44)} ${[...counts]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}x${n}`)
        .join(' ')
        .padEnd(28)} slowest ${slowest.get(cls)} ms`,
  );
  if (lines.length)
    process.stdout.write(
      `\nfuzz coverage (seed ${SEED}, ${RUNS} runs per property), statuses per class:\n${lines.join('\n')}\n`,
    );
  await stack?.stop();
  await mock?.close();
});

// ---------------------------------------------------------------------------------------------
// Properties

describe('POST /v1/responses and POST /v1/chat/completions', () => {
  const creates = [
    { name: 'responses', path: '/v1/responses', valid: validResponse as () => Record<string, unknown> },
    { name: 'chat', path: '/v1/chat/completions', valid: validChat as () => Record<string, unknown> },
  ];
  const createArb = fc.constantFrom(...creates);

  it('malformed JSON is a 400 invalid_json', async () => {
    const malformed = fc.oneof(
      text(60).filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return s.trim() !== '';
        }
      }),
      fc.constantFrom(
        '{',
        '{"model":',
        '{"model":"m",}',
        "{'model':'m'}",
        '{"a":1}{"b":2}',
        'NaN',
        '{"a":undefined}',
        '[1,2',
        '{"model":"m","input":"x"',
        '\u0000',
        '{"a":"\\x41"}',
        '{"a":01}',
        '{"a":.5}',
        '{"a":+1}',
        '{"a":"\u0001"}',
      ),
    );
    await runProperty(fc.tuple(createArb, malformed), async ([c, body]) => {
      await sendAndCheck(
        `${c.name}: malformed JSON`,
        { method: 'POST', path: c.path, headers: { ...AUTH, ...JSON_CT }, body },
        {
          family: 'openai',
          allow: only(400),
          // iconv drops a leading BOM, after which the rest may parse.
          error: (e) => (body.startsWith('\ufeff') ? undefined : expect(e.code).toBe('invalid_json')),
        },
      );
    });
  });

  it('wrong content types are refused (form-urlencoded and JSON may be valid)', async () => {
    const contentType = fc.oneof(
      fc.constantFrom(
        undefined,
        'text/plain',
        'application/xml',
        'text/xml',
        'multipart/form-data; boundary=XyZ',
        'multipart/form-data',
        'application/octet-stream',
        'application/json; charset=utf-16',
        'application/json; charset=koi8-r',
        'application/json;;;==',
        'application/vnd.api+json',
        'application/x-www-form-urlencoded',
        'application/x-www-form-urlencoded; charset=latin1',
        'image/png',
        '*/*',
        '',
      ),
      fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
    );
    const body = (valid: Record<string, unknown>) =>
      fc.oneof(
        fc.constant(JSON.stringify(valid)),
        text(200),
        fc.constant(
          '--XyZ\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt\r\n--XyZ\r\nContent-Disposition: form-data; name="input"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n\u0000\u00ff garbage\r\n--XyZ',
        ),
        fc.constant('<?xml version="1.0"?><request><model>gpt</model><input>Hello</input></request>'),
        fc.constant('model=gpt-fuzz&input=Hello&background=true&messages[0][role]=user&messages[0][content]=Hi'),
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
      );
    await runProperty(
      fc.tuple(createArb, contentType).chain(([c, ct]) => fc.tuple(fc.constant(c), fc.constant(ct), body(c.valid()))),
      async ([c, ct, b]) => {
        const headers: Record<string, string> = { ...AUTH };
        if (ct !== undefined) headers['content-type'] = ct;
        const parsed = (ct ?? '').toLowerCase().trim();
        const mayBeValid =
          parsed.startsWith('application/json') || parsed.startsWith('application/x-www-form-urlencoded');
        await sendAndCheck(
          `${c.name}: content types`,
          { method: 'POST', path: c.path, headers, body: b },
          { family: 'openai', allow: mayBeValid ? is4xxOr200 : is4xx },
        );
      },
    );
  });

  it('a wrong JSON type for any known field is a 400 naming it', async () => {
    const responseFields: [string, fc.Arbitrary<unknown>][] = [
      ['model', nonString],
      [
        'input',
        fc.oneof(
          fc.integer(),
          fc.boolean(),
          fc.dictionary(text(8), anyJson, { maxKeys: 3 }),
          fc.array(fc.oneof(fc.integer(), text(), fc.constant(null), fc.array(anyJson, { maxLength: 2 })), {
            minLength: 1,
            maxLength: 3,
          }),
        ),
      ],
      ['background', nonBoolean],
      ['store', nonBoolean],
      ['stream', nonBoolean],
      ['instructions', nonString],
      ['metadata', fc.oneof(nonObject, nonStringValueMetadata)],
    ];
    const chatFields: [string, fc.Arbitrary<unknown>][] = [
      ['model', nonString],
      [
        'messages',
        fc.oneof(
          nonArray,
          fc.constant([]),
          fc.array(fc.oneof(fc.integer(), text(), fc.constant(null), fc.array(anyJson, { maxLength: 2 })), {
            minLength: 1,
            maxLength: 3,
          }),
        ),
      ],
      [
        'messages',
        fc
          .tuple(fc.oneof(text(10), fc.integer(), fc.constant(null)), anyJson)
          .map(([role, content]) => [{ role, content }]),
      ],
      [
        'messages',
        fc
          .oneof(
            fc.integer(),
            fc.boolean(),
            fc.dictionary(text(8), anyJson, { maxKeys: 2 }),
            fc.array(fc.oneof(fc.integer(), text(), fc.constant(null)), { minLength: 1, maxLength: 2 }),
          )
          .map((content) => [{ role: 'user', content }]),
      ],
      ['background', nonBoolean],
      ['store', nonBoolean],
      ['stream', nonBoolean],
      ['metadata', fc.oneof(nonObject, nonStringValueMetadata)],
    ];
    const arb = fc.oneof(
      fc
        .tuple(fc.constant(creates[0]), fc.constantFrom(...responseFields))
        .chain(([c, [field, values]]) => fc.tuple(fc.constant(c), fc.constant(field), values)),
      fc
        .tuple(fc.constant(creates[1]), fc.constantFrom(...chatFields))
        .chain(([c, [field, values]]) => fc.tuple(fc.constant(c), fc.constant(field), values)),
    );
    await runProperty(arb, async ([c, field, value]) => {
      const body = { ...c.valid(), [field]: value };
      // A role that happens to be valid with valid content is a valid message.
      if (
        field === 'messages' &&
        Array.isArray(value) &&
        value.length === 1 &&
        isPlainObject(value[0]) &&
        ['system', 'developer', 'user', 'assistant', 'tool', 'function'].includes(value[0].role as string)
      ) {
        const content = value[0].content;
        if (
          content === null ||
          content === undefined ||
          typeof content === 'string' ||
          (Array.isArray(content) && content.every(isPlainObject))
        )
          return;
      }
      await sendAndCheck(
        `${c.name}: wrong field types`,
        { method: 'POST', path: c.path, headers: { ...AUTH, ...JSON_CT }, body: JSON.stringify(body) },
        {
          family: 'openai',
          allow: only(400),
          error: (e) => {
            if (!(e.param === field || e.param?.startsWith(`${field}.`) || e.param?.startsWith(`${field}[`)))
              throw new Error(`param ${e.param} does not name '${field}'`);
          },
        },
      );
    });
  });

  it('random values for every field and random extra fields: 4xx, or a 2xx with the right object', async () => {
    // Mostly well-typed values (so that many runs get through to the queue), sometimes anything.
    const field = (valid: fc.Arbitrary<unknown>, optional = true) => {
      const values = fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: anyJson });
      return optional ? fc.option(values, { nil: undefined, freq: 3 }) : values;
    };
    const flag = fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.boolean() });
    const metadataValue = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.dictionary(
          text(12),
          someText.filter((v) => v.length <= 512),
          { maxKeys: 4 },
        ),
      },
      { weight: 1, arbitrary: fc.dictionary(text(70), fc.oneof(someText, anyJson), { maxKeys: 20 }) },
    );
    const responseBody = fc.record({
      model: field(fc.oneof(fc.constant('gpt-fuzz'), text(30)), false),
      input: field(
        fc.oneof(
          someText,
          fc.array(fc.record({ role: fc.constantFrom('user', 'assistant', 'system'), content: someText }), {
            maxLength: 3,
          }),
          fc.array(fc.dictionary(text(8), anyJson, { maxKeys: 4 }), { maxLength: 3 }),
        ),
        false,
      ),
      instructions: field(someText),
      background: field(flag),
      store: field(fc.boolean()),
      stream: field(fc.boolean()),
      metadata: field(metadataValue),
      previous_response_id: field(someText),
      extra: fc.dictionary(text(12), anyJson, { maxKeys: 4 }),
    });
    const chatBody = fc.record({
      model: field(fc.oneof(fc.constant('gpt-fuzz'), text(30)), false),
      messages: field(
        fc.array(
          fc.record({
            role: fc.oneof(
              { weight: 5, arbitrary: fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool', 'function') },
              { weight: 1, arbitrary: text(8) },
            ),
            content: fc.oneof(
              { weight: 4, arbitrary: someText },
              {
                weight: 2,
                arbitrary: fc.array(fc.record({ type: fc.constantFrom('text', 'image_url', 'x'), text: someText }), {
                  maxLength: 2,
                }),
              },
              { weight: 1, arbitrary: anyJson },
            ),
            name: fc.option(someText, { nil: undefined }),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        false,
      ),
      background: field(flag),
      store: field(fc.boolean()),
      stream: field(fc.boolean()),
      stream_options: field(fc.record({ include_usage: fc.boolean() })),
      metadata: field(metadataValue),
      extra: fc.dictionary(text(12), anyJson, { maxKeys: 4 }),
    });
    const arb = fc.oneof(fc.tuple(fc.constant(creates[0]), responseBody), fc.tuple(fc.constant(creates[1]), chatBody));
    await runProperty(arb, async ([c, { extra, ...fields }]) => {
      const body: Record<string, unknown> = { ...extra };
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) body[k] = v;
      // The mock upstream reads knobs from metadata: keep random runs from asking it to fail or wait.
      if (isPlainObject(body.metadata))
        for (const k of Object.keys(body.metadata)) if (k.startsWith('mock_')) delete body.metadata[k];
      const stream = body.stream === true;
      await sendAndCheck(
        `${c.name}: random fields`,
        { method: 'POST', path: c.path, headers: { ...AUTH, ...JSON_CT }, body: JSON.stringify(body) },
        {
          family: 'openai',
          allow: is4xxOr200,
          ok: (a) => {
            if (stream) {
              expect(a.contentType).toMatch(/^text\/event-stream/);
            } else {
              const out = JSON.parse(a.text) as Record<string, unknown>;
              expect(out.object).toBe(c.name === 'responses' ? 'response' : 'chat.completion');
              expect(typeof out.id).toBe('string');
            }
          },
        },
      );
    });
  });

  it('valid requests with random unicode everywhere and random extra fields are a 200', async () => {
    // Keys and values MongoDB (and FerretDB: no '$' prefix, no '.', no arrays directly in arrays) can store.
    const known = new Set([
      'model',
      'input',
      'instructions',
      'metadata',
      'background',
      'store',
      'stream',
      'prompt',
      'previous_response_id',
      'conversation',
      'messages',
      'stream_options',
    ]);
    const storableKey = text(12).filter(
      (k) =>
        k !== '' &&
        !k.includes('.') &&
        !k.startsWith('$') &&
        !k.includes('\u0000') &&
        !k.startsWith('mock_') &&
        !known.has(k) &&
        k === wellFormed(k),
    );
    const scalar = fc.oneof(
      someText,
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
    );
    const { value: storable } = fc.letrec<{ value: unknown; object: Record<string, unknown>; array: unknown[] }>(
      (tie) => ({
        value: fc.oneof({ depthSize: 'small', maxDepth: 4 }, scalar, tie('object'), tie('array')),
        array: fc.array(fc.oneof(scalar, tie('object')), { maxLength: 3 }),
        object: fc.dictionary(storableKey, tie('value'), { maxKeys: 4 }),
      }),
    );
    const extra = fc.dictionary(storableKey, storable, { maxKeys: 4 });
    const metadata = fc.option(
      fc.dictionary(
        storableKey.filter((k) => k.length <= 64),
        text(40),
        { maxKeys: 16 },
      ),
      { nil: undefined },
    );
    const model = text(30).filter((m) => m !== '');
    const responseBody = fc.record({
      model,
      input: fc.oneof(
        someText,
        fc.array(
          fc.record({
            role: fc.constantFrom('user', 'assistant', 'system', 'developer'),
            content: fc.oneof(
              someText,
              fc.array(fc.record({ type: fc.constant('input_text'), text: someText }), { maxLength: 2 }),
            ),
          }),
          { minLength: 1, maxLength: 3 },
        ),
      ),
      instructions: fc.option(someText, { nil: undefined }),
      metadata,
      background: fc.boolean(),
      stream: fc.boolean(),
      extra,
    });
    const chatBody = fc.record({
      model,
      messages: fc.array(
        fc.record({
          role: fc.constantFrom('system', 'developer', 'user', 'assistant'),
          content: fc.oneof(
            someText,
            fc.array(fc.record({ type: fc.constant('text'), text: someText }), { maxLength: 2 }),
          ),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      store: fc.option(fc.boolean(), { nil: undefined }),
      metadata,
      background: fc.boolean(),
      stream: fc.boolean(),
      extra,
    });
    const arb = fc.oneof(fc.tuple(fc.constant(creates[0]), responseBody), fc.tuple(fc.constant(creates[1]), chatBody));
    await runProperty(arb, async ([c, { extra: more, ...fields }]) => {
      const body: Record<string, unknown> = { ...more };
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) body[k] = v;
      if (body.background === true && body.store === false) delete body.store;
      await sendAndCheck(
        `${c.name}: valid random content`,
        { method: 'POST', path: c.path, headers: { ...AUTH, ...JSON_CT }, body: JSON.stringify(body) },
        {
          family: 'openai',
          allow: only(200),
          ok: (a) => {
            if (body.stream === true) {
              expect(a.contentType).toMatch(/^text\/event-stream/);
              expect(a.text).toMatch(
                c.name === 'responses' ? /^event: response\.(completed|failed|incomplete)$/m : /^data: \[DONE\]$/m,
              );
              return;
            }
            const out = JSON.parse(a.text) as Record<string, unknown>;
            expect(out.object).toBe(c.name === 'responses' ? 'response' : 'chat.completion');
            if (body.background !== true)
              expect(c.name === 'responses' ? out.status : (out.choices as unknown[]).length > 0).toBe(
                c.name === 'responses' ? 'completed' : true,
              );
          },
        },
      );
    });
  });

  it('huge metadata: many keys, long keys, long values; valid exactly within the limits', async () => {
    const metadata = fc.record({
      pairs: fc.oneof(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 17, max: 150 })),
      keyLength: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 65, max: 2000 })),
      valueLength: fc.oneof(fc.integer({ min: 0, max: 512 }), fc.integer({ min: 513, max: 6000 })),
      unicode: fc.boolean(),
    });
    const arb = fc.tuple(fc.constantFrom('responses', 'chat', 'chat update'), metadata);
    await runProperty(arb, async ([target, m]) => {
      const ch = m.unicode ? '\u00e9' : 'v';
      const md: Record<string, string> = {};
      for (let i = 0; i < m.pairs; i++)
        md[`k${i}_`.padEnd(m.keyLength, 'k').slice(0, Math.max(m.keyLength, `k${i}`.length))] = ch.repeat(
          m.valueLength,
        );
      const keysOk = Object.keys(md).every((k) => k.length <= 64);
      const valid = m.pairs <= 16 && keysOk && (m.pairs === 0 || m.valueLength <= 512);
      const r: Req =
        target === 'responses'
          ? {
              method: 'POST',
              path: '/v1/responses',
              headers: { ...AUTH, ...JSON_CT },
              body: JSON.stringify({ ...validResponse(), metadata: md }),
            }
          : target === 'chat'
            ? {
                method: 'POST',
                path: '/v1/chat/completions',
                headers: { ...AUTH, ...JSON_CT },
                body: JSON.stringify({ ...validChat(), metadata: md }),
              }
            : {
                method: 'POST',
                path: `/v1/chat/completions/${real.storedChats[1]}`,
                headers: { ...AUTH, ...JSON_CT },
                body: JSON.stringify({ metadata: md }),
              };
      await sendAndCheck(`${target}: huge metadata`, r, {
        family: 'openai',
        allow: valid ? only(200) : only(400),
        error: (e) => expect(e.param ?? '').toMatch(/^metadata/),
        ok: (a) => expect((JSON.parse(a.text) as { metadata: unknown }).metadata).toEqual(md),
      });
    });
  });

  it('deeply nested JSON (up to 12k levels) is a 4xx, answered quickly, wherever it is', async () => {
    const where = fc.constantFrom(
      'responses: body',
      'responses: tools',
      'responses: text.format.schema',
      'responses: input[0].content',
      'responses: metadata',
      'chat: body',
      'chat: response_format',
      'chat: messages[0].content',
      'chat: tools',
      'chat update: metadata',
      'admin: name',
      'ohmygpt: responseId',
    );
    await runProperty(fc.tuple(where, deepJson), async ([at, { json: deep }]) => {
      const [target, path] = at.split(': ');
      let r: Req;
      let family: Family = 'openai';
      if (target === 'responses') {
        const body =
          path === 'body'
            ? deep
            : path === 'tools'
              ? `{"model":"m","input":"x","background":true,"tools":${deep}}`
              : path === 'text.format.schema'
                ? `{"model":"m","input":"x","background":true,"text":{"format":{"type":"json_schema","name":"s","schema":${deep}}}}`
                : path === 'input[0].content'
                  ? `{"model":"m","background":true,"input":[{"role":"user","content":${deep}}]}`
                  : `{"model":"m","input":"x","background":true,"metadata":{"a":${deep}}}`;
        r = { method: 'POST', path: '/v1/responses', headers: { ...AUTH, ...JSON_CT }, body };
      } else if (target === 'chat') {
        const body =
          path === 'body'
            ? deep
            : path === 'response_format'
              ? `{"model":"m","background":true,"messages":[{"role":"user","content":"x"}],"response_format":${deep}}`
              : path === 'tools'
                ? `{"model":"m","background":true,"messages":[{"role":"user","content":"x"}],"tools":[${deep}]}`
                : `{"model":"m","background":true,"messages":[{"role":"user","content":${deep}}]}`;
        r = { method: 'POST', path: '/v1/chat/completions', headers: { ...AUTH, ...JSON_CT }, body };
      } else if (target === 'chat update') {
        r = {
          method: 'POST',
          path: `/v1/chat/completions/${real.storedChats[0]}`,
          headers: { ...AUTH, ...JSON_CT },
          body: `{"metadata":${deep}}`,
        };
      } else if (target === 'admin') {
        r = {
          method: 'POST',
          path: '/admin/keys',
          headers: { ...ADMIN, ...JSON_CT },
          body: `{"user_id":"u","name":${deep}}`,
        };
      } else {
        family = 'ohmygpt';
        r = {
          method: 'POST',
          path: `${OMG}/get-completion-data`,
          headers: { ...AUTH, ...JSON_CT },
          body: `{"responseId":${deep}}`,
        };
      }
      const a = await sendAndCheck(`deep JSON: ${target}`, r, { family, allow: only(400, 413) });
      if (a.ms > 5000) throw new Error(`deep JSON took ${a.ms} ms: ${describeReq(r)}`);
    });
  });

  it('bodies too large to store are a 413, not a 500', async () => {
    // Over the record limit (12 MiB as BSON) but under the body limit (20 MiB).
    const big = 'x'.repeat(13 * 1024 * 1024);
    for (const r of [
      {
        method: 'POST',
        path: '/v1/responses',
        headers: { ...AUTH, ...JSON_CT },
        body: JSON.stringify({ ...validResponse(), input: big }),
      },
      {
        method: 'POST',
        path: '/v1/responses',
        headers: { ...AUTH, ...JSON_CT },
        body: JSON.stringify({ ...validResponse(), input: big.slice(0, 7 * 1024 * 1024) }),
      },
      {
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { ...AUTH, ...JSON_CT },
        body: JSON.stringify({ ...validChat(), messages: [{ role: 'user', content: big }] }),
      },
      {
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { ...AUTH, ...JSON_CT },
        body: JSON.stringify({ ...validChat(), numbers: new Array(1_500_000).fill(1) }),
      },
      {
        method: 'POST',
        path: '/v1/responses',
        headers: { ...AUTH, ...JSON_CT },
        body: `{"model":"m","input":"${'x'.repeat(21 * 1024 * 1024)}"}`,
      },
    ]) {
      await sendAndCheck('huge bodies', r, {
        family: 'openai',
        allow: only(413),
        error: (e) => expect(e.code).toBe('request_too_large'),
      });
    }
  });
});

describe('reads, cancels and deletes by id', () => {
  const responseQuery = queryString(
    ['stream', 'starting_after', 'include', 'include[]', 'after', 'limit', 'order'],
    fc.oneof(
      someText,
      fc.constantFrom('true', 'false', '0', '-1', '1', '20', '100', '101', '999999999', '1e3', 'asc', 'desc'),
    ),
  );

  it('GET /v1/responses/{id} (with stream and starting_after), cancel and input_items', async () => {
    const arb = fc.tuple(fc.constantFrom('get', 'cancel', 'input_items'), idSegment(allResponseIds), responseQuery);
    await runProperty(arb, async ([op, id, query]) => {
      const realId = allResponseIds().includes(decodeURIComponentSafe(id));
      const r: Req =
        op === 'get'
          ? { method: 'GET', path: `/v1/responses/${id}${query}`, headers: AUTH }
          : op === 'cancel'
            ? { method: 'POST', path: `/v1/responses/${id}/cancel${query}`, headers: AUTH }
            : { method: 'GET', path: `/v1/responses/${id}/input_items${query}`, headers: AUTH };
      await sendAndCheck(`responses: ${op} by id`, r, {
        family: 'openai',
        allow: (s) => is4xx(s) || (s === 200 && realId),
        ok: (a) => {
          if (a.contentType.startsWith('text/event-stream')) return expect(a.text).toMatch(/^$|^event: response\./m);
          const out = JSON.parse(a.text) as Record<string, unknown>;
          expect(out.object).toBe(op === 'input_items' ? 'list' : 'response');
        },
      });
    });
  });

  it('GET /v1/responses/{id}?stream=true replays and ends, whatever starting_after says', async () => {
    const arb = fc.tuple(
      fc.constantFrom(...allResponseIds()),
      fc.oneof(
        fc.constant(undefined),
        fc.nat({ max: 40 }).map(String),
        fc.constantFrom('', '-1', '999999999', '1000000000', '1.5', 'x', '%00'),
        text(8),
      ),
    );
    await runProperty(arb, async ([id, after]) => {
      const q = after === undefined ? '' : `&starting_after=${enc(after)}`;
      await sendAndCheck(
        'responses: stream replay',
        { method: 'GET', path: `/v1/responses/${id}?stream=true${q}`, headers: AUTH },
        {
          family: 'openai',
          allow: (s) => s === 400 || (s === 200 && real.bgResponses.concat(real.cancelledResponse).includes(id)),
        },
      );
    });
  });

  it('GET/POST /v1/chat/completions/{id}, cancel and messages', async () => {
    const update = fc.oneof(
      fc.record({ metadata: fc.oneof(fc.dictionary(safeKey, text(20), { maxKeys: 4 }), fc.constant(null), anyJson) }),
      fc.dictionary(text(10), anyJson, { maxKeys: 3 }),
      anyJson,
    );
    const listQuery = queryString(
      ['after', 'limit', 'order'],
      fc.oneof(someText, fc.constantFrom('1', '20', '100', '0', '101', 'asc', 'desc')),
    );
    const arb = fc.tuple(
      fc.constantFrom('get', 'update', 'cancel', 'messages'),
      idSegment(allChatIds),
      listQuery,
      update,
    );
    await runProperty(arb, async ([op, id, query, body]) => {
      const decoded = decodeURIComponentSafe(id);
      const stored = [...real.storedChats, real.bgChat].includes(decoded);
      const r: Req =
        op === 'get'
          ? { method: 'GET', path: `/v1/chat/completions/${id}${query}`, headers: AUTH }
          : op === 'update'
            ? {
                method: 'POST',
                path: `/v1/chat/completions/${id}`,
                headers: { ...AUTH, ...JSON_CT },
                body: JSON.stringify(body),
              }
            : op === 'cancel'
              ? { method: 'POST', path: `/v1/chat/completions/${id}/cancel`, headers: AUTH }
              : { method: 'GET', path: `/v1/chat/completions/${id}/messages${query}`, headers: AUTH };
      await sendAndCheck(`chat: ${op} by id`, r, {
        family: 'openai',
        allow: (s) => is4xx(s) || (s === 200 && stored),
        ok: (a) =>
          expect((JSON.parse(a.text) as { object: string }).object).toBe(
            op === 'messages' ? 'list' : 'chat.completion',
          ),
      });
    });
  });

  it('GET /v1/chat/completions: model, metadata[k]=v, after, limit, order (200 exactly when all are valid)', async () => {
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
    await runProperty(
      fc.tuple(
        limit,
        order,
        after,
        model,
        metadata,
        unknownAfter,
        fc.shuffledSubarray(['x_junk=1', 'x[y]=2', `x_long=${'z'.repeat(3000)}`, '__proto__[a]=1']),
      ),
      async ([l, o, af, m, md, unknown, junk]) => {
        const parts = [l, o, af, m, md].map((p) => p.q).filter(Boolean);
        if (unknown && !af.q) parts.push('after=chatcmpl-doesnotexist');
        parts.push(...junk);
        const firstBad = [l, o, af, m, md].find((p) => p.bad !== null)?.bad ?? (unknown && !af.q ? 'after' : null);
        await sendAndCheck(
          'chat: list query',
          { method: 'GET', path: `/v1/chat/completions?${parts.join('&')}`, headers: AUTH },
          {
            family: 'openai',
            allow: firstBad === null ? only(200) : only(400),
            error: (e) => expect(e.param).toBe(firstBad),
            ok: (a) => expect((JSON.parse(a.text) as { object: string }).object).toBe('list'),
          },
        );
      },
    );
  });

  it('GET /v1/usage: start_date and end_date', async () => {
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
    await runProperty(q, async ([start, end, extra]) => {
      const parts = [
        start !== undefined ? `start_date=${enc(start)}` : '',
        end !== undefined ? `end_date=${enc(end)}` : '',
      ].filter(Boolean);
      await sendAndCheck(
        'usage: dates',
        { method: 'GET', path: `/v1/usage?${parts.join('&')}${extra}`, headers: AUTH },
        {
          family: 'openai',
          allow: is4xxOr200,
          error: (e) => expect(['start_date', 'end_date']).toContain(e.param),
          ok: (a) => {
            const out = JSON.parse(a.text) as { object: string; start_date: string; end_date: string };
            expect(out.object).toBe('usage.summary');
            expect(out.start_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
            expect(out.end_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
            expect(out.start_date <= out.end_date).toBe(true);
          },
        },
      );
    });
  });
});

describe('OhMyGPT store endpoints', () => {
  const fieldName = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.constantFrom('page', 'pageSize', 'sort', 'model', 'models', 'models[]', 'responseId', 'omgUrId'),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'models[0]',
        'models[25]',
        'page[]',
        'responseId[$ne]',
        'responseId[]',
        'sort[a]',
        '__proto__[x]',
        'constructor',
        'a[b][c][d][e][f][g]',
      ),
    },
    { weight: 1, arbitrary: text(10) },
  );
  it('form-urlencoded and JSON bodies (and malformed ones) answer 200 or a 4xx in OhMyGPT envelope', async () => {
    const fieldValue = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          '1',
          '2',
          '20',
          '100',
          '101',
          '0',
          '-1',
          '1.5',
          '1000000',
          '1000001',
          'desc',
          'asc',
          '-createdAt',
          'createdAt',
          'constructor',
          '__proto__',
          'toString',
          'gpt-fuzz',
          'gpt-fuzz,gpt-fuzz-b',
          '',
        ),
      },
      { weight: 2, arbitrary: fc.constantFrom(...allChatIds()) },
      { weight: 3, arbitrary: someText },
    );
    const form = fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 6 }).map((pairs) => ({
      ct: 'application/x-www-form-urlencoded',
      body: pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&'),
    }));
    const rawForm = fc
      .oneof(
        text(80),
        fc.constantFrom(
          '%',
          '%zz',
          'page=%ff',
          '&&&',
          `${'a[b]'.repeat(40)}=1`,
          Array.from({ length: 1200 }, (_, i) => `f${i}=1`).join('&'),
          `models=${'m,'.repeat(3000)}`,
        ),
      )
      .map((body) => ({ ct: 'application/x-www-form-urlencoded', body }));
    const jsonBody = fc
      .dictionary(
        fieldName.filter((k) => !k.includes('[')),
        fc.oneof(fieldValue, anyJson, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
        { maxKeys: 5 },
      )
      .map((o) => ({ ct: 'application/json', body: JSON.stringify(o) }));
    const badJson = fc
      .oneof(fc.constantFrom('{', '[1,2]', '"x"', '1', 'null', '{"page":}', '{"responseId":"a"', '\u0000'), text(30))
      .map((body) => ({ ct: 'application/json', body }));
    const otherCt = fc
      .tuple(
        fc.constantFrom(
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=x',
          'application/json; charset=utf-16',
          'application/x-www-form-urlencoded; charset=koi8-r',
        ),
        text(40),
      )
      .map(([ct, body]) => ({ ct, body }));
    const byId = fc
      .tuple(
        fc.constantFrom(...allChatIds()),
        fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 2 }),
        fc.boolean(),
      )
      .map(([id, pairs, asJson]) =>
        asJson
          ? { ct: 'application/json', body: JSON.stringify({ ...Object.fromEntries(pairs), responseId: id }) }
          : {
              ct: 'application/x-www-form-urlencoded',
              body: [...pairs, ['responseId', id]].map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&'),
            },
      );
    const arb = fc.tuple(
      fc.constantFrom('list-completions-data', 'get-completion-data'),
      fc.oneof(form, byId, rawForm, jsonBody, badJson, otherCt),
    );
    await runProperty(arb, async ([action, { ct, body }]) => {
      await sendAndCheck(
        `ohmygpt: ${action}`,
        { method: 'POST', path: `${OMG}/${action}`, headers: { ...AUTH, 'content-type': ct }, body },
        {
          family: 'ohmygpt',
          allow: is4xxOr200,
          ok: (a) => {
            const out = JSON.parse(a.text) as { statusCode: number; message: string; data: unknown };
            expect(out.statusCode).toBe(200);
            expect(isPlainObject(out.data)).toBe(true);
          },
        },
      );
    });
  });

  it('unknown routes, wrong methods and missing keys under the OhMyGPT prefix use its envelope', async () => {
    const arb = fc.tuple(
      fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'POST'),
      fc.oneof(fc.constantFrom(...OMG_ACTIONS), text(12).map(enc)),
      authHeader,
    );
    await runProperty(arb, async ([method, action, auth]) => {
      const known = (OMG_ACTIONS as readonly string[]).includes(action) && method === 'POST';
      const authorized = bearerKey(auth) === KEYS.alice;
      const headers: Record<string, string> = { ...FORM_CT };
      if (auth !== undefined) headers.authorization = auth;
      const long = (auth?.length ?? 0) > 16_000;
      await sendAndCheck(
        'ohmygpt: routes and auth',
        { method, path: `${OMG}/${action}`, headers, body: method === 'GET' ? undefined : 'page=1' },
        {
          family: 'ohmygpt',
          allow: (s) => (long ? s === 431 : !known ? s === 404 : authorized ? is4xxOr200(s) && s !== 401 : s === 401),
        },
      );
    });
  });
});

describe('admin API', () => {
  it('POST/GET /admin/keys and POST/DELETE /admin/keys/{id} with random bodies, queries and ids', async () => {
    const keyBody = fc.record(
      {
        user_id: fc.oneof(
          fc.constantFrom('fuzz-user', 'u@x.y', 'a'.repeat(128), 'a'.repeat(129), ''),
          someText,
          anyJson,
        ),
        name: fc.oneof(someText, anyJson),
        enabled: fc.oneof(fc.boolean(), anyJson),
        tier: fc.oneof(
          fc.constantFrom('regular', 'vip', 'premium', 'toString', '__proto__', 'constructor', 'hasOwnProperty'),
          anyJson,
        ),
        rpm: fc.oneof(
          fc.integer({ min: -5, max: 2_000_000 }),
          fc.constant(null),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          anyJson,
        ),
        concurrency: fc.oneof(fc.integer({ min: -5, max: 2_000_000 }), fc.constant(null), anyJson),
        junk: anyJson,
      },
      { requiredKeys: [] },
    );
    const op = fc.oneof(
      keyBody.map((b) => ({ method: 'POST', path: '/admin/keys', body: JSON.stringify(b) })),
      fc
        .tuple(
          idSegment(() => real.keyIds),
          keyBody,
        )
        .map(([id, b]) => {
          const { user_id: _omit, ...rest } = b as Record<string, unknown>;
          void _omit;
          return { method: 'POST', path: `/admin/keys/${id}`, body: JSON.stringify(rest) };
        }),
      queryString(['user_id']).map((q) => ({ method: 'GET', path: `/admin/keys${q}`, body: undefined })),
      idSegment(() => real.keyIds).map((id) => ({ method: 'DELETE', path: `/admin/keys/${id}`, body: undefined })),
      fc
        .tuple(fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json'), text(60))
        .map(([ct, body]) => ({ method: 'POST', path: '/admin/keys', body, ct })),
    );
    await runProperty(op, async (o) => {
      const ct = (o as { ct?: string }).ct ?? 'application/json';
      const headers = o.body === undefined ? { ...ADMIN } : { ...ADMIN, 'content-type': ct };
      await sendAndCheck(
        `admin: ${o.method} ${o.path.startsWith('/admin/keys/') ? '/admin/keys/{id}' : '/admin/keys'}`,
        { method: o.method, path: o.path, headers, body: o.body },
        {
          family: 'openai',
          allow: is4xxOr200,
          ok: (a) => {
            const out = JSON.parse(a.text) as Record<string, unknown>;
            expect(out.object).toBe(o.method === 'GET' ? 'list' : 'api_key');
          },
        },
      );
    });
  });

  it('the admin API answers only to the admin token', async () => {
    const arb = fc.tuple(
      fc.constantFrom('GET /admin/keys', 'POST /admin/keys', 'POST /admin/keys/x', 'DELETE /admin/keys/x'),
      authHeader,
    );
    await runProperty(arb, async ([route, auth]) => {
      const [method, path] = route.split(' ');
      const headers: Record<string, string> = { ...JSON_CT };
      if (auth !== undefined) headers.authorization = auth;
      const admin = bearerKey(auth) === ADMIN_TOKEN;
      const long = (auth?.length ?? 0) > 16_000;
      await sendAndCheck(
        'admin: auth',
        { method, path, headers, body: method === 'POST' ? '{}' : undefined },
        {
          family: 'openai',
          allow: (s) => (long ? s === 431 : admin ? s !== 401 && is4xxOr200(s) : s === 401),
        },
      );
    });
  });
});

describe('headers', () => {
  const endpoints: { family: Family; req: () => Req }[] = [
    {
      family: 'openai',
      req: () => ({ method: 'POST', path: '/v1/responses', headers: JSON_CT, body: JSON.stringify(validResponse()) }),
    },
    { family: 'openai', req: () => ({ method: 'GET', path: `/v1/responses/${real.bgResponses[0]}` }) },
    { family: 'openai', req: () => ({ method: 'DELETE', path: '/v1/responses/resp_doesnotexist' }) },
    { family: 'openai', req: () => ({ method: 'POST', path: `/v1/responses/${real.bgResponses[0]}/cancel` }) },
    {
      family: 'openai',
      req: () => ({ method: 'GET', path: `/v1/responses/${real.bgResponses[1]}/input_items?limit=2&order=asc` }),
    },
    {
      family: 'openai',
      req: () => ({ method: 'GET', path: `/v1/responses/${real.bgResponses[0]}?stream=true&starting_after=3` }),
    },
    {
      family: 'openai',
      req: () => ({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: JSON_CT,
        body: JSON.stringify(validChat()),
      }),
    },
    { family: 'openai', req: () => ({ method: 'GET', path: '/v1/chat/completions?limit=2&metadata[project]=fuzz' }) },
    { family: 'openai', req: () => ({ method: 'GET', path: `/v1/chat/completions/${real.storedChats[0]}` }) },
    {
      family: 'openai',
      req: () => ({
        method: 'POST',
        path: `/v1/chat/completions/${real.storedChats[0]}`,
        headers: JSON_CT,
        body: '{"metadata":{"project":"fuzz"}}',
      }),
    },
    { family: 'openai', req: () => ({ method: 'DELETE', path: '/v1/chat/completions/chatcmpl-doesnotexist' }) },
    { family: 'openai', req: () => ({ method: 'POST', path: `/v1/chat/completions/${real.bgChat}/cancel` }) },
    { family: 'openai', req: () => ({ method: 'GET', path: `/v1/chat/completions/${real.storedChats[0]}/messages` }) },
    { family: 'openai', req: () => ({ method: 'GET', path: '/v1/usage?start_date=2024-01-01&end_date=2024-01-31' }) },
    {
      family: 'ohmygpt',
      req: () => ({ method: 'POST', path: `${OMG}/list-completions-data`, headers: FORM_CT, body: 'page=1' }),
    },
    {
      family: 'ohmygpt',
      req: () => ({
        method: 'POST',
        path: `${OMG}/get-completion-data`,
        headers: JSON_CT,
        body: JSON.stringify({ responseId: real.storedChats[0] }),
      }),
    },
    {
      family: 'ohmygpt',
      req: () => ({
        method: 'POST',
        path: `${OMG}/delete-completion-data`,
        headers: FORM_CT,
        body: 'responseId=chatcmpl-doesnotexist',
      }),
    },
  ];

  it('Authorization variants on every endpoint: 401 unless the key is valid', async () => {
    await runProperty(
      fc.tuple(fc.constantFrom(...endpoints.keys()), authHeader),
      async ([i, auth]) => {
        const { family, req } = endpoints[i];
        const r = req();
        const headers: Record<string, string> = { ...r.headers };
        if (auth !== undefined) headers.authorization = auth;
        const valid = bearerKey(auth) === KEYS.alice;
        const long = (auth?.length ?? 0) > 16_000;
        await sendAndCheck(
          `auth: ${r.method} ${r.path.split('?')[0].replace(/(resp_|chatcmpl-)\w+/, '{id}')}`,
          { ...r, headers },
          {
            family,
            allow: (s) => (long ? s === 431 : valid ? s !== 401 && is4xxOr200(s) : s === 401),
          },
        );
      },
      RUNS * 2,
    );
  });

  it('other weird headers do not change a valid answer', async () => {
    const headerName = fc
      .stringMatching(/^[a-z][a-z0-9-]{0,30}$/)
      .filter(
        (n) =>
          ![
            'authorization',
            'content-length',
            'content-type',
            'content-encoding',
            'transfer-encoding',
            'host',
            'connection',
            'expect',
            'upgrade',
            'keep-alive',
            'te',
            'trailer',
            'proxy-authorization',
          ].includes(n),
      );
    const headerValue = fc.oneof(
      fc.string({
        unit: fc
          .integer({ min: 0x21, max: 0xff })
          .filter((c) => c !== 0x7f)
          .map((c) => String.fromCharCode(c)),
        maxLength: 200,
      }),
      fc.integer({ min: 1000, max: 3000 }).map((n) => 'v'.repeat(n)),
    );
    const fixed = fc.record(
      {
        'user-agent': fc.oneof(headerValue, fc.constant('x'.repeat(8000))),
        'x-forwarded-for': fc.constantFrom('1.2.3.4', '::1, 999.999.1.1', 'garbage, , ,', 'unknown'),
        accept: fc.constantFrom('*/*', 'text/html', 'application/xml', 'text/event-stream', ''),
        'x-request-id': fc.constantFrom('client-chosen', 'req_00000000000000000000000000000000'),
        'accept-encoding': fc.constantFrom('gzip', 'br', 'identity;q=0', 'x'),
      },
      { requiredKeys: [] },
    );
    await runProperty(
      fc.tuple(
        fc.constantFrom(0, 1, 4, 7, 8, 12, 13, 14),
        fc.dictionary(headerName, headerValue, { maxKeys: 4 }),
        fixed,
      ),
      async ([i, random, known]) => {
        const { family, req } = endpoints[i];
        const r = req();
        const headers = { ...random, ...known, ...r.headers, ...AUTH } as Record<string, string>;
        const size = Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
        await sendAndCheck(
          `weird headers: ${r.method} ${r.path.split('?')[0].replace(/(resp_|chatcmpl-)\w+/, '{id}')}`,
          { ...r, headers },
          {
            family,
            allow: size > 15_500 ? only(200, 431) : only(200),
          },
        );
      },
    );
  });

  it('raw bytes: UTF-8 in headers, huge headers, broken request lines', async () => {
    const utf8Auth = text(30).map((s) => `Bearer ${s.replace(/[\r\n\u0000]/g, '')}`);
    const arb = fc.oneof(
      fc
        .tuple(fc.constantFrom('/v1/chat/completions', `${OMG}/list-completions-data`, '/admin/keys'), utf8Auth)
        .map(([path, auth]) => ({
          kind: 'utf-8 authorization',
          family: (path.startsWith(OMG) ? 'ohmygpt' : 'openai') as Family,
          // 400 when Node's parser refuses a control character in the value.
          allow: only(400, 401),
          head: Buffer.from(
            `${path.startsWith(OMG) ? 'POST' : 'GET'} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
            'utf8',
          ),
        })),
      fc
        .tuple(
          fc.constantFrom('/v1/responses/x', `${OMG}/get-completion-data`),
          fc.integer({ min: 17_000, max: 80_000 }),
        )
        .map(([path, n]) => ({
          kind: 'huge header',
          family: (path.startsWith(OMG) ? 'ohmygpt' : 'openai') as Family,
          allow: only(431),
          head: Buffer.from(
            `${path.startsWith(OMG) ? 'POST' : 'GET'} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.alice}\r\nX-Big: ${'b'.repeat(n)}\r\nConnection: close\r\n\r\n`,
          ),
        })),
      fc.integer({ min: 17_000, max: 60_000 }).map((n) => ({
        kind: 'huge url',
        family: 'openai' as Family,
        allow: only(431),
        head: Buffer.from(`GET /v1/responses/${'a'.repeat(n)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
      })),
      fc
        .constantFrom(
          'GET /v1/usage HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
          'GET /v1/usage HTTP/9.9\r\nHost: x\r\n\r\n',
          'BREW /v1/usage HTTP/1.1\r\nHost: x\r\n\r\n',
          'GET  HTTP/1.1\r\n\r\n',
          'POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
          'POST /v1/responses HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
          'GET /v1/usage HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n',
          '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003',
        )
        .map((head) => ({
          kind: 'broken http',
          family: 'openai' as Family,
          allow: (s: number) => s === 400 || s === 501 || s === 505,
          head: Buffer.from(head, 'latin1'),
        })),
    );
    await runProperty(arb, async ({ kind, family, allow, head }) => {
      const a = await rawHttp(head);
      check(`raw: ${kind}`, { method: 'RAW', path: head.toString('latin1').slice(0, 120) }, a, { family, allow });
    });
  });
});

describe('deleting', () => {
  it('DELETE /v1/responses/{id} and /v1/chat/completions/{id}, and OhMyGPT delete-completion-data', async () => {
    const arb = fc.oneof(
      idSegment(() => [...real.victimResponses, real.cancelledResponse]).map((id) => ({
        family: 'openai' as Family,
        kind: 'responses',
        r: { method: 'DELETE', path: `/v1/responses/${id}`, headers: AUTH } as Req,
        id,
      })),
      idSegment(() => [...real.victimChats, real.unstoredChat]).map((id) => ({
        family: 'openai' as Family,
        kind: 'chat',
        r: { method: 'DELETE', path: `/v1/chat/completions/${id}`, headers: AUTH } as Req,
        id,
      })),
      fc
        .tuple(
          idSegment(() => real.victimChats),
          fc.boolean(),
        )
        .map(([id, form]) => ({
          family: 'ohmygpt' as Family,
          kind: 'ohmygpt',
          r: {
            method: 'POST',
            path: `${OMG}/delete-completion-data`,
            headers: { ...AUTH, ...(form ? FORM_CT : JSON_CT) },
            body: form ? `responseId=${id}` : JSON.stringify({ responseId: decodeURIComponentSafe(id) }),
          } as Req,
          id,
        })),
    );
    await runProperty(arb, async ({ family, kind, r, id }) => {
      const victim = [...real.victimResponses, ...real.victimChats, real.cancelledResponse].includes(
        decodeURIComponentSafe(id),
      );
      await sendAndCheck(`delete: ${kind}`, r, {
        family,
        allow: (s) => is4xx(s) || (s === 200 && victim),
        ok: (a) => expect(JSON.stringify(JSON.parse(a.text))).toMatch(/"deleted":true/),
      });
    });
  });
});

describe('after the fuzzing', () => {
  it('the api still answers /health and logged no unhandled error', async () => {
    expect(stack.apis[0].exitCode).toBeNull();
    expect(stack.apis[0].signalCode).toBeNull();
    expect(stack.workers[0].exitCode).toBeNull();
    const health = await send({ method: 'GET', path: '/health' });
    expect(health.status).toBe(200);
    expect(health.requestId).toMatch(/^req_[0-9a-f]{32}$/);
    // The whole api log, not the tail stack.logs() shows.
    const file = /^--- (\S+\/api0\.log)$/m.exec(stack.logs())?.[1];
    expect(file).toBeDefined();
    const log = readFileSync(file!, 'utf8');
    const bad = log
      .split('\n')
      .filter((l) => /unhandled error|uncaughtException|UnhandledPromiseRejection|Maximum call stack/i.test(l));
    expect(bad.map((l) => l.slice(0, 500))).toEqual([]);
  });
});

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
