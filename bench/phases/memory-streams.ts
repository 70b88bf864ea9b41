/** 5b. Memory with open streams: RSS of the api and the worker with hundreds of synchronous streamed responses open. */
import { setMaxListeners } from 'node:events';
import { AUTH, C, log, PROMPT } from '../config';
import { type Ctx, mockConfig, ZERO_MOCK } from '../context';
import * as L from '../lib';
import { startBenchStack } from '../stack';
import { callQueue, DEFAULT_ROUTE } from '../../src/infra/jobs';

/** The queue our default route's calls run on (both kinds). */
const CALLS_QUEUE = callQueue(DEFAULT_ROUTE);

export async function measureOpenStreams(ctx: Ctx): Promise<Record<string, unknown>> {
  // Open streams: synchronous streamed responses. A stream is open once its first event
  // (response.created, written by the api) arrived; the mock paces tokens slowly, so none ends
  // before the sample, and the worker runs as many of them as it has claimed by then.
  const m = C.memStreams;
  await mockConfig(ctx, { ...ZERO_MOCK, tokens: m.tokens, tokenDelayMs: m.tokenDelayMs });
  const st = await startBenchStack(ctx, {
    label: 'mems',
    workers: 1,
    concurrency: m.streams + 50,
    connections: m.streams + 50,
  });
  const streamsOut: Record<string, unknown> = {};
  const ac = new AbortController();
  setMaxListeners(0, ac.signal); // one listener per open stream
  const running: Promise<unknown>[] = [];
  try {
    // Warm-up streams, short (per-request mock knobs travel in metadata to the upstream).
    const quick = {
      model: C.model,
      input: PROMPT,
      stream: true,
      metadata: { mock_tokens: '3', mock_token_delay_ms: '0' },
    };
    await L.runLoad({
      concurrency: 10,
      count: 10,
      op: () => L.timeStream(st.pool, '/v1/responses', quick, AUTH, L.responsesToken).then(() => undefined),
    });
    await L.sleep(1000);
    const idle = { apiMb: await L.rssSample(st.api.pid), workerMb: await L.rssSample(st.workers[0].pid) };
    let opened = 0;
    let withTokens = 0;
    let finished = 0;
    let failed = 0;
    let firstError: string | null = null;
    const body = { model: C.model, input: PROMPT, stream: true };
    const openedAt = L.now();
    let openNow = 0;
    for (let i = 0; i < m.streams; i++) {
      let isOpen = false;
      running.push(
        L.timeStream(
          st.pool,
          '/v1/responses',
          body,
          AUTH,
          L.responsesToken,
          ac.signal,
          () => withTokens++,
          () => {
            isOpen = true;
            opened++;
            openNow++;
          },
        )
          .then(() => finished++)
          .catch((err: Error) => {
            failed++;
            firstError ??= err.message;
          })
          .finally(() => {
            if (isOpen) openNow--;
          }),
      );
    }
    await L.waitFor(`${m.streams} open streams`, () => (opened + failed >= m.streams ? true : undefined), 90_000, 50);
    const allOpenMs = L.now() - openedAt;
    if (failed > 0) log(`   ${failed} streams failed: ${firstError}`);
    await L.sleep(m.settleMs);
    const apiMb = await L.rssSample(st.api.pid);
    const workerMb = await L.rssSample(st.workers[0].pid);
    const during = {
      apiMb,
      workerMb,
      open: openNow,
      finished,
      withTokens,
      workerActiveJobs: await ctx.redis.llen(`${st.prefix}:${CALLS_QUEUE}:active`),
      failed,
      secondsToOpenAll: L.round(allOpenMs / 1000, 1),
    };
    Object.assign(streamsOut, {
      streams: m.streams,
      idle,
      during,
      apiKbPerStream: L.round(((during.apiMb - idle.apiMb) * 1024) / during.open, 1),
      workerKbPerActiveStream: during.workerActiveJobs
        ? L.round(((during.workerMb - idle.workerMb) * 1024) / during.workerActiveJobs, 1)
        : null,
    });
    log(
      `   ${during.open} open streams (${during.workerActiveJobs} taken by the worker, ${withTokens} with tokens): ` +
        `api ${apiMb.toFixed(1)} MiB (idle ${idle.apiMb.toFixed(1)}), ` +
        `worker ${workerMb.toFixed(1)} MiB (idle ${idle.workerMb.toFixed(1)})`,
    );
  } finally {
    ac.abort();
    await Promise.race([Promise.allSettled(running), L.sleep(15_000)]);
    await st.stop();
  }
  return streamsOut;
}
