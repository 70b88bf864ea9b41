import { Injectable, type OnModuleInit } from '@nestjs/common';
import { type CallKey, type CallRecord, TERMINAL_STATUSES } from '../domain/call';
import { sleepOrWake } from '../domain/wait';
import { BusChannel } from '../infra/jobs';
import { RedisBus } from '../infra/redis-bus.service';
import type { CallRecordStore } from '../persistence/call-records.repository';

export type WaitResult<R> = { kind: 'done'; record: R } | { kind: 'gone' } | { kind: 'timeout' } | { kind: 'aborted' };

/**
 * Re-read interval when no terminal notice arrives. Notices are lost only while the bus connection is down, and a
 * reconnect wakes every listener, so this is a safety net, not the way waits end.
 */
const SAFETY_MS = 5000;

/**
 * Terminal notices (a call reached a terminal state) for this api process: a synchronous request waits on them, and
 * open streams listen for them. A notice wakes at once; the record is the truth either way.
 */
@Injectable()
export class TerminalWaiter implements OnModuleInit {
  private readonly listeners = new Map<string, Set<() => void>>();

  constructor(private readonly bus: RedisBus) {}

  async onModuleInit(): Promise<void> {
    await this.bus.subscribe(BusChannel.Terminal, (id) => this.listeners.get(id)?.forEach((wake) => wake()));
    this.bus.onReconnect(() => this.listeners.forEach((set) => set.forEach((wake) => wake())));
  }

  /** Calls `wake` on each terminal notice for the call (and after a reconnect); returns the unregister. */
  listen(id: string, wake: () => void): () => void {
    const set = this.listeners.get(id) ?? new Set();
    this.listeners.set(id, set);
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }

  async wait<R extends CallRecord>(
    repo: CallRecordStore<R>,
    key: CallKey,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<WaitResult<R>> {
    const deadline = Date.now() + timeoutMs;
    let wake: () => void = () => undefined;
    const stop = this.listen(key.responseId, () => wake());
    try {
      for (;;) {
        // Armed before reading, so a notice between the read and the wait is not lost.
        const woke = new Promise<void>((resolve) => (wake = resolve));
        const record = await repo.find(key);
        if (!record) return { kind: 'gone' };
        if (TERMINAL_STATUSES.includes(record.status)) return { kind: 'done', record };
        if (signal.aborted) return { kind: 'aborted' };
        const left = deadline - Date.now();
        if (left <= 0) return { kind: 'timeout' };
        await sleepOrWake(woke, Math.min(SAFETY_MS, left), signal);
      }
    } finally {
      stop();
    }
  }
}
