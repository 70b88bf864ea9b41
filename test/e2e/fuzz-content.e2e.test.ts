/**
 * Property-based fuzzing, create family (2 of 2): valid bodies with random unicode and extra fields, huge
 * metadata, deeply nested JSON anywhere, bodies too large to store. One stack of its own (fuzz/support/world.ts).
 */
import fc from 'fast-check';
import { afterTheFuzzing } from './fuzz/support/after';
import { deepJson, validChat, validResponse } from './fuzz/support/arbitraries';
import { ADMIN, AUTH, JSON_CT, OMG } from './fuzz/support/config';
import { validRandomBodies } from './fuzz/support/creates';
import { describeReq, type Family, only, type Req, runProperty, sendAndCheck } from './fuzz/support/send';
import { real, useFuzzStack } from './fuzz/support/world';

useFuzzStack();

describe('POST /v1/responses and POST /v1/chat/completions', () => {
  it('valid requests with random unicode everywhere and random extra fields are a 200', async () => {
    await runProperty(validRandomBodies(), async ([c, { extra: more, ...fields }]) => {
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
                ? '{"model":"m","input":"x","background":true,' +
                  `"text":{"format":{"type":"json_schema","name":"s","schema":${deep}}}}`
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

afterTheFuzzing();
