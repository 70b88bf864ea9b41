import { Injectable } from '@nestjs/common';
import { sleepOrWake } from '../common/wait';
import { RedisBus } from '../infra/redis-bus.service';
import { EventLog, type LogEntry } from './event-log.service';

export type TailEnd = 'ended' | 'aborted' | 'unfinished';

/** How often a tail re-reads without a notice, and asks whether the call is over regardless. */
const POLL_MS = 1000;
const DONE_CHECK_MS = 3000;

/**
 * Follows a call's event log from any api replica: reads what is there, then waits for append
 * notices (with a polling fallback) until the end entry, the client leaving, or `isOver` saying
 * the call finished without an end entry (the log expired, or a writer died before closing it).
 */
@Injectable()
export class EventTailer {
  constructor(private readonly log: EventLog, private readonly bus: RedisBus) {}

  async tail(id: string, afterSeq: number, signal: AbortSignal, onEntry: (e: LogEntry) => void, isOver: () => Promise<boolean>): Promise<{ end: TailEnd; lastSeq: number }> {
    let wake: () => void = () => undefined;
    const unsubscribe = await this.bus.subscribe(this.log.channel(id), () => wake());
    let last = afterSeq;
    let lastDoneCheck = Date.now();
    try {
      for (;;) {
        const woke = new Promise<void>((resolve) => (wake = resolve));
        const entries = await this.log.read(id, last);
        for (const e of entries) {
          onEntry(e);
          last = e.seq;
          if (e.end) return { end: 'ended', lastSeq: last };
        }
        if (entries.length > 0) continue;
        if (signal.aborted) return { end: 'aborted', lastSeq: last };
        if (Date.now() - lastDoneCheck >= DONE_CHECK_MS) {
          lastDoneCheck = Date.now();
          // Read the log once more after the check, so an end written just before it is not missed.
          if ((await isOver()) && (await this.log.read(id, last, 1)).length === 0) return { end: 'unfinished', lastSeq: last };
          continue;
        }
        await sleepOrWake(woke, POLL_MS, signal);
      }
    } finally {
      unsubscribe();
    }
  }
}
