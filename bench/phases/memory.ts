/** 5. Memory: RSS with queued jobs (5a), then with open streams (5b). */
import { C, log } from '../config';
import type { Ctx } from '../context';
import { measureQueued } from './memory-queued';
import { measureOpenStreams } from './memory-streams';

export async function phaseMemory(ctx: Ctx) {
  log(
    `5/6 memory: RSS with up to ${C.memQueued.checkpoints.at(-1)} queued jobs, ` +
      `then with ${C.memStreams.streams} open streams`,
  );
  const queued = await measureQueued(ctx);
  return { ...queued, streams: await measureOpenStreams(ctx) };
}
