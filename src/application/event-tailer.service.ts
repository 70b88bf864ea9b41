import { Injectable } from '@nestjs/common';
import type { LogEntry } from '../domain/events';
import { sleepOrWake } from '../domain/wait';
import { EventLog } from '../infra/event-log.service';
import { RedisBus } from '../infra/redis-bus.service';

export type TailEnd = 'ended' | 'aborted' | 'unfinished';

/** How a tail ended, filled in when the iteration is over (left `aborted` when the reader stopped pulling). */
export interface TailState {
  end: TailEnd;
  lastSeq: number;
}

/** How often a tail re-reads without a notice, and asks whether the call is over regardless. */
const POLL_MS = 1000;
const DONE_CHECK_MS = 3000;

/**
 * Follows a call's event log from any api replica: reads what is there, then waits for append notices (with a polling
 * fallback) until the end entry, the client leaving, or `isOver` saying the call finished without an end entry (the
 * log expired, or a writer died before closing it). Entries are pulled, so a slow reader slows the reading.
 */
@Injectable()
export class EventTailer {
  constructor(
    private readonly log: EventLog,
    private readonly bus: RedisBus,
  ) {}

  async *tail(
    id: string,
    state: TailState,
    signal: AbortSignal,
    isOver: () => Promise<boolean>,
  ): AsyncGenerator<LogEntry> {
    let wake: () => void = () => undefined;
    const unsubscribe = await this.bus.subscribe(this.log.channel(id), () => wake());
    let lastDoneCheck = Date.now();
    try {
      for (;;) {
        if (signal.aborted) {
          state.end = 'aborted';
          return;
        }
        const woke = new Promise<void>((resolve) => (wake = resolve));
        const entries = await this.log.read(id, state.lastSeq);
        for (const e of entries) {
          state.lastSeq = e.seq;
          yield e;
          if (e.end) {
            state.end = 'ended';
            return;
          }
        }
        if (entries.length > 0) continue;
        if (Date.now() - lastDoneCheck >= DONE_CHECK_MS) {
          lastDoneCheck = Date.now();
          // Read the log once more after the check, so an end written just before it is not missed.
          if ((await isOver()) && (await this.log.read(id, state.lastSeq, 1)).length === 0) {
            state.end = 'unfinished';
            return;
          }
          continue;
        }
        await sleepOrWake(woke, POLL_MS, signal);
      }
    } finally {
      unsubscribe();
    }
  }
}
