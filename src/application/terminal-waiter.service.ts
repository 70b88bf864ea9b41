import { Injectable, OnModuleInit } from '@nestjs/common';
import { type CallKey, type CallRecord, TERMINAL_STATUSES } from '../domain/call';
import { sleepOrWake } from '../domain/wait';
import { BusChannel } from '../infra/jobs';
import { RedisBus } from '../infra/redis-bus.service';
import type { CallRecordStore } from '../persistence/call-records.repository';

export type WaitResult<R> = { kind: 'done'; record: R } | { kind: 'gone' } | { kind: 'timeout' } | { kind: 'aborted' };

/** Re-read interval when no terminal notice arrives (notices are at-most-once). */
const POLL_MS = 1000;

/**
 * Lets a synchronous request wait for its job. A terminal notice on the bus wakes it at once; a
 * periodic re-read of MongoDB covers lost notices. The record is the truth either way.
 */
@Injectable()
export class TerminalWaiter implements OnModuleInit {
  private readonly wakers = new Map<string, Set<() => void>>();

  constructor(private readonly bus: RedisBus) {}

  async onModuleInit(): Promise<void> {
    await this.bus.subscribe(BusChannel.Terminal, (id) => this.wakers.get(id)?.forEach((wake) => wake()));
  }

  async wait<R extends CallRecord>(
    repo: CallRecordStore<R>,
    key: CallKey,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<WaitResult<R>> {
    const deadline = Date.now() + timeoutMs;
    let wake: () => void = () => undefined;
    const set = this.wakers.get(key.responseId) ?? new Set();
    this.wakers.set(key.responseId, set);
    const onWake = () => wake();
    set.add(onWake);
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
        await sleepOrWake(woke, Math.min(POLL_MS, left), signal);
      }
    } finally {
      set.delete(onWake);
      if (set.size === 0) this.wakers.delete(key.responseId);
    }
  }
}
