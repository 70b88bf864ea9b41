/** One event of a call's append-only log. `end` marks the last one (an empty `data` closes without a word). */
export interface LogEvent {
  data: string;
  end?: boolean;
}

/** An event as read back from the log, with its sequence number. */
export interface LogEntry {
  seq: number;
  data: string;
  end: boolean;
}
