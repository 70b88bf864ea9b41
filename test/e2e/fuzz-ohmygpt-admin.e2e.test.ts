/**
 * Property-based fuzzing, OhMyGPT store endpoints and the admin API: form and JSON bodies (and malformed ones),
 * routes, methods and keys under the OhMyGPT prefix; admin keys with random bodies, queries and ids, and the admin
 * token. One stack of its own (fuzz/support/world.ts).
 */
import fc from 'fast-check';
import { KEYS } from '../support/stack';
import { afterTheFuzzing } from './fuzz/support/after';
import {
  anyJson,
  authHeader,
  bearerKey,
  enc,
  idSegment,
  queryString,
  someText,
  text,
} from './fuzz/support/arbitraries';
import { ADMIN, ADMIN_TOKEN, AUTH, FORM_CT, JSON_CT, OMG, OMG_ACTIONS } from './fuzz/support/config';
import { is4xxOr200, isPlainObject, runProperty, sendAndCheck } from './fuzz/support/send';
import { allChatIds, real, useFuzzStack } from './fuzz/support/world';

useFuzzStack();

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

afterTheFuzzing();
