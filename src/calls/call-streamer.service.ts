import { Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import type { AppConfig } from '../config/app-config';
import { EventLog, type LogEvent } from '../events/event-log.service';
import { EventTailer } from '../events/event-tailer.service';
import { SseWriter } from '../events/sse-writer';
import { APP_CONFIG } from '../infra/tokens';
import type { CallKind } from './call-kind';
import { CallLifecycle } from './call-lifecycle.service';
import { type CallRecord, keyOf, TERMINAL_STATUSES } from './call-record';

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
 * Serves a call's event log as SSE from any api replica: everything after `afterSeq`, then live
 * until the end entry. A cancelled call ends the stream quietly; a finished call whose log has
 * expired replays from its stored state.
 */
@Injectable()
export class CallStreamer {
  constructor(
    private readonly log: EventLog,
    private readonly tailer: EventTailer,
    private readonly calls: CallLifecycle,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async stream<R extends CallRecord>(kind: CallKind<R>, format: StreamFormat<R>, res: Response, record: R, afterSeq: number, clientGone: AbortSignal, opts: StreamOptions): Promise<void> {
    const writer = new SseWriter(res, this.config.sseHeartbeatMs);
    const key = keyOf(record);
    const send = (data: string, seq: number) => {
      if (data !== '') writer.write(format.frame(data, seq));
    };
    try {
      if (TERMINAL_STATUSES.includes(record.status)) {
        const last = await this.log.last(record.responseId);
        if (!last) {
          // The log expired: rebuild the events from the stored record.
          format.replay(record).forEach((e, seq) => seq > afterSeq && send(e.data, seq));
          return;
        }
        if (last.end && last.seq <= afterSeq) return; // the client already has everything
      }
      const isOver = async () => {
        const now = await kind.repo.find(key);
        return !now || TERMINAL_STATUSES.includes(now.status);
      };
      const tail = await this.tailer.tail(record.responseId, afterSeq, clientGone, (e) => send(e.data, e.seq), isOver);
      if (tail.end === 'aborted' && opts.cancelOnDisconnect) {
        await this.calls.stop(kind, key);
      } else if (tail.end === 'unfinished') {
        // The call ended but its log has no end entry (a writer died between the two writes).
        const now = await kind.repo.find(key);
        if (now && now.status !== 'cancelled' && TERMINAL_STATUSES.includes(now.status)) send(kind.terminalEvent(now).data, tail.lastSeq + 1);
      }
    } finally {
      writer.end();
    }
  }
}
