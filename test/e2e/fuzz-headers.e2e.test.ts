/**
 * Property-based fuzzing, headers: Authorization variants on every endpoint, other weird headers, and raw bytes
 * fetch will not send (UTF-8 in headers, huge headers and URLs, broken request lines). One stack of its own
 * (fuzz/support/world.ts).
 */
import fc from 'fast-check';
import { KEYS } from '../support/stack';
import { afterTheFuzzing } from './fuzz/support/after';
import { authHeader, bearerKey, text, validChat, validResponse } from './fuzz/support/arbitraries';
import { AUTH, FORM_CT, JSON_CT, OMG, RUNS } from './fuzz/support/config';
import {
  check,
  type Family,
  is4xxOr200,
  only,
  rawHttp,
  type Req,
  runProperty,
  sendAndCheck,
} from './fuzz/support/send';
import { real, useFuzzStack } from './fuzz/support/world';

useFuzzStack();

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
            `${path.startsWith(OMG) ? 'POST' : 'GET'} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\n` +
              'Content-Length: 0\r\nConnection: close\r\n\r\n',
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
            `${path.startsWith(OMG) ? 'POST' : 'GET'} ${path} HTTP/1.1\r\nHost: x\r\n` +
              `Authorization: Bearer ${KEYS.alice}\r\nX-Big: ${'b'.repeat(n)}\r\nConnection: close\r\n\r\n`,
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

afterTheFuzzing();
