import { Injectable, type OnModuleInit } from '@nestjs/common';
import { type CallKey, type CallRecord, TERMINAL_STATUSES } from '../domain/call';
import { sleepOrWake } from '../domain/wait';
import { BusChannel } from '../infra/jobs';
import { RedisBus } from '../infra/redis-bus.service';
import type { CallRecordStore } from '../persistence/call-records.repository';

/** A listener armed before its call is enqueued: `next` returns at the next notice (or one that came already). */
export interface ArmedWait {
  /** Resolves with the notice's result, when it carried one (a call that keeps nothing). */
  next(ms: number, signal: AbortSignal): Promise<string | undefined>;
  stop(): void;
}

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
  private readonly listeners = new Map<string, Set<(result?: string) => void>>();

  constructor(private readonly bus: RedisBus) {}

  async onModuleInit(): Promise<void> {
    // A notice is the call's id, or its id, a newline and its result (domain/ephemeral).
    await this.bus.subscribe(BusChannel.Terminal, (msg) => {
      const nl = msg.indexOf('\n');
      const id = nl < 0 ? msg : msg.slice(0, nl);
      const result = nl < 0 ? undefined : msg.slice(nl + 1);
      this.listeners.get(id)?.forEach((wake) => wake(result));
    });
    this.bus.onReconnect(() => this.listeners.forEach((set) => set.forEach((wake) => wake())));
  }

  /** Calls `wake` on each terminal notice for the call (and after a reconnect); returns the unregister. */
  listen(id: string, wake: (result?: string) => void): () => void {
    const set = this.listeners.get(id) ?? new Set();
    this.listeners.set(id, set);
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }

  /** Listens for a call's notices from now on, so not even one published before the first wait is missed. */
  arm(id: string): ArmedWait {
    let notified = false;
    let carried: string | undefined;
    let wake: (() => void) | null = null;
    const stop = this.listen(id, (result) => {
      notified = true;
      carried ??= result;
      wake?.();
    });
    const next = async (ms: number, signal: AbortSignal) => {
      if (!notified) await sleepOrWake(new Promise<void>((resolve) => (wake = resolve)), ms, signal);
      const result = carried;
      notified = false;
      carried = undefined;
      wake = null;
      return result;
    };
    return { next, stop };
  }

  /**
   * Waits for a call that has no MongoDB record: `read` gives its result, from the notice that carried it or else from
   * Redis (null until it ended). It is read when a notice comes, and otherwise only as the rare safety check.
   */
  async waitHeld<R>(
    armed: ArmedWait,
    read: (carried: string | undefined) => Promise<R | null>,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<WaitResult<R>> {
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) return { kind: 'timeout' };
        const carried = await armed.next(Math.min(SAFETY_MS, left), signal);
        if (signal.aborted) return { kind: 'aborted' };
        const record = await read(carried);
        if (record) return { kind: 'done', record };
      }
    } finally {
      armed.stop();
    }
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
