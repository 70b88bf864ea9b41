import { Injectable } from '@nestjs/common';
import type { LogEntry } from '../domain/events';
import { sleepOrWake } from '../domain/wait';
import { EventLog } from '../infra/event-log.service';
import { RedisBus } from '../infra/redis-bus.service';
import { TerminalWaiter } from './terminal-waiter.service';

export type TailEnd = 'ended' | 'aborted' | 'unfinished';

/** How a tail ended, filled in when the iteration is over (left `aborted` when the reader stopped pulling). */
export interface TailState {
  end: TailEnd;
  lastSeq: number;
}

/**
 * An idle tail reads nothing until a notice wakes it: an append (published by the append itself, in the same Lua
 * script), the call's terminal notice, or a bus reconnect. Only this rare safety check runs without one, for an end
 * whose every notice was lost (a writer that died between its MongoDB write and its log append).
 */
const SAFETY_MS = 60_000;

/**
 * Follows a call's event log from any api replica: reads what is there, then waits for a notice until the end entry,
 * the client leaving, or the call found finished without an end entry (the log expired, or its writer died before
 * closing it). Entries are pulled, so a slow reader slows the reading.
 */
@Injectable()
export class EventTailer {
  constructor(
    private readonly log: EventLog,
    private readonly bus: RedisBus,
    private readonly terminal: TerminalWaiter,
  ) {}

  async *tail(
    id: string,
    state: TailState,
    signal: AbortSignal,
    isOver: () => Promise<boolean>,
  ): AsyncGenerator<LogEntry> {
    let wake: () => void = () => undefined;
    let checkOver = false;
    const unsubscribe = await this.bus.subscribe(this.log.channel(id), () => wake());
    const unlisten = this.terminal.listen(id, () => {
      checkOver = true;
      wake();
    });
    let lastCheck = Date.now();
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
        if (checkOver || Date.now() - lastCheck >= SAFETY_MS) {
          checkOver = false;
          lastCheck = Date.now();
          // Read the log once more after the check, so an end written just before it is not missed.
          if ((await isOver()) && (await this.log.read(id, state.lastSeq, 1)).length === 0) {
            state.end = 'unfinished';
            return;
          }
          continue;
        }
        await sleepOrWake(woke, SAFETY_MS, signal);
      }
    } finally {
      unlisten();
      unsubscribe();
    }
  }
}
