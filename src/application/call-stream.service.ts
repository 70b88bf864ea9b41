import { Injectable } from '@nestjs/common';
import { type CallRecord, keyOf, TERMINAL_STATUSES } from '../domain/call';
import type { Caller } from '../domain/caller';
import type { LogEvent } from '../domain/events';
import { EventLog } from '../infra/event-log.service';
import { StreamSlots } from '../infra/stream-slots.service';
import type { CallKind } from './call-kinds';
import { CallLifecycle } from './call-lifecycle.service';
import { EventTailer, type TailState } from './event-tailer.service';

/** The call a stream is about: its record as the stream began, and (read once, when asked) as it is now. */
export interface CallView<R extends CallRecord> {
  readonly record: R;
  current(): Promise<R | null>;
}

/** How a kind's log entries look on the wire. */
export interface StreamFormat<R extends CallRecord> {
  /** The SSE text for one stored payload and its sequence number ('' to send nothing). */
  frame(data: string, seq: number, call: CallView<R>): Promise<string> | string;
  /** The events of a finished call rebuilt from its record, for when its log has expired. */
  replay(record: R): LogEvent[];
}

export interface StreamOptions<R extends CallRecord = CallRecord> {
  /** A synchronous stream whose client leaves is cancelled; a background one runs on. */
  cancelOnDisconnect: boolean;
  /** A call without a MongoDB record (domain/ephemeral): how to read it once finished, tell it ended, and stop it. */
  held?: {
    current(): Promise<R | null>;
    isOver(): Promise<boolean>;
    stop(): Promise<unknown>;
  };
}

/**
 * A call's event log as SSE frames, from any api replica: everything after `afterSeq`, then live until the end
 * entry. A cancelled call ends the stream quietly; a finished call whose log has expired replays from its stored
 * state. The frames are pulled by the HTTP edge, which writes them as the client reads.
 */
@Injectable()
export class CallStreamService {
  constructor(
    private readonly log: EventLog,
    private readonly tailer: EventTailer,
    private readonly calls: CallLifecycle,
    private readonly slots: StreamSlots,
  ) {}

  /** One of the caller's MAX_STREAMS_PER_KEY stream slots (429 when all are taken), freed when the stream ends. */
  openSlot(caller: Caller): Promise<() => Promise<void>> {
    return this.slots.open(caller);
  }

  /** A call's first events, unless its log exists already. */
  async startLog(id: string, events: LogEvent[]): Promise<void> {
    await this.log.start(id, events);
  }

  async *frames<R extends CallRecord>(
    kind: CallKind<R>,
    format: StreamFormat<R>,
    record: R,
    afterSeq: number,
    clientGone: AbortSignal,
    opts: StreamOptions<R>,
  ): AsyncGenerator<string> {
    const key = keyOf(record);
    const held = opts.held;
    let now: Promise<R | null> | null = null;
    const call: CallView<R> = { record, current: () => (now ??= held ? held.current() : kind.repo.find(key)) };
    const send = async (data: string, seq: number) => (data === '' ? '' : format.frame(data, seq, call));
    if (TERMINAL_STATUSES.includes(record.status)) {
      const last = await this.log.last(record.responseId);
      if (!last) {
        // The log expired: rebuild the events from the stored record.
        const events = format.replay(record);
        for (let seq = afterSeq + 1; seq < events.length; seq++) yield await send(events[seq].data, seq);
        return;
      }
      if (last.end && last.seq <= afterSeq) return; // the client already has everything
    }
    const isOver = async () => {
      if (held) return held.isOver();
      const found = await kind.repo.find(key);
      return !found || TERMINAL_STATUSES.includes(found.status);
    };
    const state: TailState = { end: 'aborted', lastSeq: afterSeq };
    try {
      for await (const e of this.tailer.tail(record.responseId, state, clientGone, isOver))
        yield await send(e.data, e.seq);
    } finally {
      // Only synchronous streams are cancelled on disconnect: no webhook event for them.
      if (state.end === 'aborted' && opts.cancelOnDisconnect)
        await (held ? held.stop() : this.calls.stop(kind, key, false));
    }
    if (state.end === 'unfinished') {
      // The call ended but its log has no end entry (a writer died between the two writes).
      const found = await call.current();
      if (found && found.status !== 'cancelled' && TERMINAL_STATUSES.includes(found.status)) {
        yield await send(kind.terminalEvent(found).data, state.lastSeq + 1);
      }
    }
  }
}
