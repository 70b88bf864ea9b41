/** 4. Streaming: time to first token and inter-token gaps, ours and the peer against direct streaming from the mock. */
import { C, log, PROMPT } from '../config';
import { chatBody, type Ctx, mockConfig, type Target, ZERO_MOCK } from '../context';
import * as L from '../lib';
import { withLatencyStack } from './targets';

/** The stream kind measured for the record (no target): a response stored as Responses store by default. */
export const STORED_RESPONSES = 'responses stored (store: true, its record written first)';

interface StreamStats {
  n: number;
  errors: number;
  ttft: L.Summary;
  gapMean: number;
  gap: L.Summary;
  total: L.Summary;
}

export async function phaseStream(ctx: Ctx, fixed: Target[]) {
  return withLatencyStack(ctx, 'stream', fixed, (targets) => measureStreams(ctx, targets));
}

async function measureStreams(ctx: Ctx, targets: Target[]) {
  log(
    '4/6 streaming: time to first token and inter-token gaps, ' +
      `mock paced ${C.stream.tokens} tokens x ${C.stream.tokenDelayMs} ms`,
  );
  await mockConfig(ctx, { ...ZERO_MOCK, tokens: C.stream.tokens, tokenDelayMs: C.stream.tokenDelayMs });
  // The targets compare like with like: a call that keeps nothing, as the peer keeps nothing. A stored response
  // (Responses' default) writes its record first, on the test database: reported beside them.
  const kinds = [
    {
      kind: 'responses',
      path: '/v1/responses',
      body: { model: C.model, input: PROMPT, stream: true, store: false },
      isToken: L.responsesToken,
    },
    {
      kind: STORED_RESPONSES,
      path: '/v1/responses',
      body: { model: C.model, input: PROMPT, stream: true },
      isToken: L.responsesToken,
    },
    { kind: 'chat', path: '/v1/chat/completions', body: chatBody({ stream: true }), isToken: L.chatToken },
  ];
  const out: Record<string, Record<string, StreamStats>> = {};
  for (const k of kinds) {
    const timings: Record<string, L.StreamTiming[]> = {};
    const errs: Record<string, number> = {};
    for (const t of targets) {
      timings[t.name] = [];
      errs[t.name] = 0;
      for (let i = 0; i < 3; i++)
        await L.timeStream(t.pool, k.path, k.body, t.headers, k.isToken).catch(() => undefined); // warm-up
    }
    for (let r = 0; r < C.stream.rounds; r++) {
      const order = targets.map((_, i) => targets[(i + r) % targets.length]);
      for (const t of order) {
        for (let i = 0; i < C.stream.perRound; i++) {
          try {
            const tm = await L.timeStream(t.pool, k.path, k.body, t.headers, k.isToken);
            if (tm.tokens !== C.stream.tokens)
              throw new Error(`${t.name}: ${tm.tokens} token events, expected ${C.stream.tokens}`);
            timings[t.name].push(tm);
          } catch (err) {
            errs[t.name]++;
            if (errs[t.name] === 1) log(`   ${k.kind} ${t.name}: ${(err as Error).message}`);
          }
        }
      }
    }
    out[k.kind] = Object.fromEntries(
      targets.map((t) => {
        const ts = timings[t.name];
        const gaps = ts.flatMap((x) => x.gaps);
        return [
          t.name,
          {
            n: ts.length,
            errors: errs[t.name],
            ttft: L.summarize(ts.map((x) => x.ttft)),
            gapMean: L.round(gaps.reduce((a, b) => a + b, 0) / gaps.length),
            gap: L.summarize(gaps),
            total: L.summarize(ts.map((x) => x.total)),
          },
        ];
      }),
    );
    const s = out[k.kind];
    log(
      `   ${k.kind} TTFT p50: direct ${s.direct.ttft.p50} ms, ours ${s.ours.ttft.p50} ms` +
        `${s.peer ? `, peer ${s.peer.ttft.p50} ms` : ''}`,
    );
  }
  return out;
}
