/**
 * Property-based fuzzing, reads family: get, cancel, input items, stream replay, chat reads and updates, the chat
 * list query, usage dates, and at the end deleting (it removes records the reads use). One stack of its own
 * (fuzz/support/world.ts).
 */
import fc from 'fast-check';
import { afterTheFuzzing } from './fuzz/support/after';
import { anyJson, enc, idSegment, queryString, safeKey, someText, text } from './fuzz/support/arbitraries';
import { AUTH, FORM_CT, JSON_CT, OMG } from './fuzz/support/config';
import { chatListQuery, usageDates } from './fuzz/support/queries';
import {
  decodeURIComponentSafe,
  type Family,
  is4xx,
  is4xxOr200,
  only,
  type Req,
  runProperty,
  sendAndCheck,
} from './fuzz/support/send';
import { allChatIds, allResponseIds, real, useFuzzStack } from './fuzz/support/world';

useFuzzStack();

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

  it(
    'GET /v1/chat/completions: model, metadata[k]=v, after, limit, order ' + '(200 exactly when all are valid)',
    async () => {
      const { limit, order, after, model, metadata, unknownAfter } = chatListQuery();
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
    },
  );

  it('GET /v1/usage: start_date and end_date', async () => {
    await runProperty(usageDates(), async ([start, end, extra]) => {
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

afterTheFuzzing();
