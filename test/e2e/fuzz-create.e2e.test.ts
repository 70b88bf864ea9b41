/**
 * Property-based fuzzing, create family (1 of 2): malformed JSON, content types, wrong field types and random
 * field values on POST /v1/responses and POST /v1/chat/completions. One stack of its own; what every answer must
 * hold and the FUZZ_* settings: test/e2e/fuzz/support/config.ts.
 */
import fc from 'fast-check';
import { afterTheFuzzing } from './fuzz/support/after';
import { text } from './fuzz/support/arbitraries';
import { AUTH, JSON_CT } from './fuzz/support/config';
import { createArb, randomFieldBodies, wrongFieldTypes } from './fuzz/support/creates';
import { is4xx, is4xxOr200, isPlainObject, only, runProperty, sendAndCheck } from './fuzz/support/send';
import { useFuzzStack } from './fuzz/support/world';

useFuzzStack();

describe('POST /v1/responses and POST /v1/chat/completions', () => {
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
          '--XyZ\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt\r\n' +
            '--XyZ\r\nContent-Disposition: form-data; name="input"; filename="a.txt"\r\n' +
            'Content-Type: text/plain\r\n\r\n\u0000\u00ff garbage\r\n--XyZ',
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
    await runProperty(wrongFieldTypes(), async ([c, field, value]) => {
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
    await runProperty(randomFieldBodies(), async ([c, { extra, ...fields }]) => {
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
});

afterTheFuzzing();
