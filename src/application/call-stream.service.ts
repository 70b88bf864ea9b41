import { Injectable } from '@nestjs/common';
import { type CallRecord, keyOf, TERMINAL_STATUSES } from '../domain/call';
import type { LogEvent } from '../domain/events';
import { EventLog } from '../infra/event-log.service';
import type { CallKind } from './call-kinds';
import { CallLifecycle } from './call-lifecycle.service';
import { EventTailer, type TailState } from './event-tailer.service';

/** How a kind's log entries look on the wire. */
export interface StreamFormat<R extends CallRecord> {
  /** The SSE text for one stored payload and its sequence number. */
  frame(data: string, seq: number): string;
  /** The events of a finished call rebuilt from its record, for when its log has expired. */
  replay(record: R): LogEvent[];
}

export interface StreamOptions {
  /** A synchronous stream whose client leaves is cancelled; a background one runs on. */
  cancelOnDisconnect: boolean;
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
  ) {}

  async *frames<R extends CallRecord>(
    kind: CallKind<R>,
    format: StreamFormat<R>,
    record: R,
    afterSeq: number,
    clientGone: AbortSignal,
    opts: StreamOptions,
  ): AsyncGenerator<string> {
    const key = keyOf(record);
    if (TERMINAL_STATUSES.includes(record.status)) {
      const last = await this.log.last(record.responseId);
      if (!last) {
        // The log expired: rebuild the events from the stored record.
        const events = format.replay(record);
        for (let seq = afterSeq + 1; seq < events.length; seq++)
          if (events[seq].data !== '') yield format.frame(events[seq].data, seq);
        return;
      }
      if (last.end && last.seq <= afterSeq) return; // the client already has everything
    }
    const isOver = async () => {
      const now = await kind.repo.find(key);
      return !now || TERMINAL_STATUSES.includes(now.status);
    };
    const state: TailState = { end: 'aborted', lastSeq: afterSeq };
    try {
      for await (const e of this.tailer.tail(record.responseId, state, clientGone, isOver)) {
        if (e.data !== '') yield format.frame(e.data, e.seq);
      }
    } finally {
      if (state.end === 'aborted' && opts.cancelOnDisconnect) await this.calls.stop(kind, key);
    }
    if (state.end === 'unfinished') {
      // The call ended but its log has no end entry (a writer died between the two writes).
      const now = await kind.repo.find(key);
      if (now && now.status !== 'cancelled' && TERMINAL_STATUSES.includes(now.status)) {
        yield format.frame(kind.terminalEvent(now).data, state.lastSeq + 1);
      }
    }
  }
}
