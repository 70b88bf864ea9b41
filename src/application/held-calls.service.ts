import { Injectable } from '@nestjs/common';
import type { CallRecord } from '../domain/call';
import type { Caller } from '../domain/caller';
import type { LogEvent } from '../domain/events';
import type { JsonObject } from '../domain/json';
import type { CallAnswer } from '../domain/request-context';
import type { CallKind } from './call-kinds';
import { CallAdmission } from './call-admission.service';
import { CallLifecycle } from './call-lifecycle.service';
import { CallStreamService, type StreamFormat } from './call-stream.service';

/** How one kind answers a call that keeps nothing: its first log events, its stream format and its view. */
export interface HeldAnswer<R extends CallRecord> {
  firstEvents: LogEvent[];
  format: StreamFormat<R>;
  view(record: R): JsonObject;
}

/**
 * Calls that keep nothing (domain/ephemeral), the same for every kind: the record travels in its job and the result
 * comes back over Redis, awaited or streamed; the client's leaving cancels it; what Redis held of it goes once it is
 * answered.
 */
@Injectable()
export class HeldCalls {
  constructor(
    private readonly admission: CallAdmission,
    private readonly calls: CallLifecycle,
    private readonly streams: CallStreamService,
  ) {}

  /** `slot` is the caller's stream slot when the call is streamed (freed with the stream, or here on a refusal). */
  async answer<R extends CallRecord>(
    kind: CallKind<R>,
    caller: Caller,
    record: R,
    how: HeldAnswer<R>,
    clientGone: AbortSignal,
    slot: (() => Promise<void>) | null,
  ): Promise<CallAnswer> {
    // A synchronous waiter listens before the job exists, so the notice cannot come first.
    const armed = slot ? null : this.calls.expect(record.responseId);
    try {
      await this.admission.acceptHeld(kind, caller, record, how.firstEvents);
    } catch (err) {
      armed?.stop();
      await slot?.();
      throw err;
    }
    if (slot) return { frames: this.frames(kind, record, how.format, clientGone, slot) };
    const done = await this.calls.awaitHeld(kind, record, armed!, clientGone);
    return done ? { body: how.view(done) } : null;
  }

  private async *frames<R extends CallRecord>(
    kind: CallKind<R>,
    record: R,
    format: StreamFormat<R>,
    clientGone: AbortSignal,
    slot: () => Promise<void>,
  ): AsyncGenerator<string> {
    const held = {
      current: () => this.calls.heldResult(record),
      isOver: () => this.calls.heldOver(record),
      stop: () => this.calls.stopHeld(kind, record),
    };
    try {
      yield* this.streams.frames(kind, format, record, -1, clientGone, { cancelOnDisconnect: true, held });
    } finally {
      await slot();
      await this.calls.forgetHeld(record, kind.logsEvents(record));
    }
  }
}
