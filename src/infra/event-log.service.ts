import { Inject, Injectable } from '@nestjs/common';
import type { Result } from 'ioredis';
import type { AppConfig } from '../config/app-config';
import type { LogEntry, LogEvent } from '../domain/events';
import { RedisBus } from './redis-bus.service';
import { Metrics } from './metrics.service';
import { type RedisClient, RedisConnections } from './redis-connections';
import { APP_CONFIG } from '../config/tokens';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** APPEND below: KEYS[1] the log; ARGV active TTL, retention, channel, then (data, end) pairs. */
    appendEvents(key: string, ...args: string[]): Result<number, Context>;
    /** START below: APPEND into a log that does not exist yet (-2 when it does). */
    startEvents(key: string, ...args: string[]): Result<number, Context>;
  }
}

/** How long a log lives while its call is unfinished (abandoned logs go away by themselves). */
const ACTIVE_TTL_S = 24 * 3600;

/**
 * Appends events atomically. The entry id of sequence number N is `0-(N+1)`, so the next number
 * comes from the last id inside Redis: several writers can never repeat or skip one. Nothing is
 * appended after an end entry. Each append wakes tailers through a pub/sub notice.
 */
const APPEND = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local n = 0
if #last > 0 then
  n = tonumber(string.match(last[1][1], '^0%-(%d+)$'))
  local fields = last[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 't' and fields[i + 1] == 'end' then return -1 end
  end
end
local ended = false
for i = 4, #ARGV, 2 do
  n = n + 1
  if ARGV[i + 1] == '1' then
    redis.call('XADD', KEYS[1], '0-' .. n, 'd', ARGV[i], 't', 'end')
    ended = true
    break
  end
  redis.call('XADD', KEYS[1], '0-' .. n, 'd', ARGV[i])
end
redis.call('EXPIRE', KEYS[1], ended and ARGV[2] or ARGV[1])
redis.call('PUBLISH', ARGV[3], n - 1)
return n - 1
`;

/** The first events of a log, written only if nobody started it yet (the api for a stream, or the worker). */
const START = `if redis.call('EXISTS', KEYS[1]) == 1 then return -2 end\n${APPEND}`;

/**
 * The append-only event log of a streamed or background call, shared by all replicas: a Redis
 * Stream per call. Workers (and the api, for the first events) append; any api replica reads.
 * After the call ends the log is kept for EVENT_LOG_RETENTION_S, then expires.
 */
@Injectable()
export class EventLog {
  private readonly redis: RedisClient;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly bus: RedisBus,
    connections: RedisConnections,
    private readonly metrics: Metrics,
  ) {
    this.redis = connections.commands();
    this.redis.defineCommand('appendEvents', { numberOfKeys: 1, lua: APPEND });
    this.redis.defineCommand('startEvents', { numberOfKeys: 1, lua: START });
  }

  key(id: string): string {
    return `${this.config.queuePrefix}:events:${id}`;
  }

  /** The bus channel that announces appends for one call. */
  channel(id: string): string {
    return `ev:${id}`;
  }

  /** Appends in order; returns the last sequence number written, or -1 if the log was closed. */
  async append(id: string, events: LogEvent[]): Promise<number> {
    return this.write('appendEvents', id, events);
  }

  /**
   * A call's first events, unless its log exists already: a background call's log starts when a stream or the worker
   * needs it (whichever comes first), not when it is accepted.
   */
  async start(id: string, events: LogEvent[]): Promise<number> {
    return this.write('startEvents', id, events);
  }

  private async write(script: 'appendEvents' | 'startEvents', id: string, events: LogEvent[]): Promise<number> {
    if (events.length === 0) return -1;
    const args: string[] = [
      String(ACTIVE_TTL_S),
      String(this.config.eventLogRetentionS),
      this.bus.channel(this.channel(id)),
    ];
    let bytes = 0;
    for (const e of events) {
      args.push(e.data, e.end ? '1' : '0');
      bytes += Buffer.byteLength(e.data);
    }
    this.metrics.eventLogBytes.inc(bytes);
    return this.redis[script](this.key(id), ...args);
  }

  /** Closes the log without a final event (a cancelled call): open streams end quietly. */
  close(id: string): Promise<number> {
    return this.append(id, [{ data: '', end: true }]);
  }

  /** Entries after sequence number `afterSeq` (-1 for all), at most `count`. */
  async read(id: string, afterSeq: number, count = 500): Promise<LogEntry[]> {
    const raw = (await this.redis.xrange(this.key(id), `0-${afterSeq + 2}`, '+', 'COUNT', count)) as [
      string,
      string[],
    ][];
    return raw.map(toEntry);
  }

  /** The last entry of a log, or null when there is none. */
  async last(id: string): Promise<LogEntry | null> {
    const raw = (await this.redis.xrevrange(this.key(id), '+', '-', 'COUNT', 1)) as [string, string[]][];
    return raw.length > 0 ? toEntry(raw[0]) : null;
  }

  /** Whether an attempt already logged output beyond the lifecycle events `isLifecycle` names. */
  async hasOutput(id: string, isLifecycle: (data: string) => boolean): Promise<boolean> {
    const entries = await this.read(id, -1, 1000);
    return entries.some((e) => e.data !== '' && !isLifecycle(e.data));
  }

  /** A buffered writer for one call: emits never wait, flush() does; appends are batched. */
  sink(id: string): EventSink {
    return new EventSink((events) => this.append(id, events), this.config.eventLogMaxBytes);
  }

  /** Removes a call's log at once (a deleted call, or one that keeps nothing once answered). */
  async delete(id: string): Promise<void> {
    await this.redis.unlink(this.key(id));
  }
}

/** A stream entry `0-(seq+1)` with fields `d` (payload) and, on the last one, `t: end`. */
function toEntry([entryId, fields]: [string, string[]]): LogEntry {
  let data = '';
  let end = false;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 'd') data = fields[i + 1];
    else if (fields[i] === 't') end = fields[i + 1] === 'end';
  }
  return { seq: Number(entryId.slice(2)) - 1, data, end };
}

/**
 * Collects events while an upstream stream is read and appends them in batches, one append in
 * flight at a time, so a slow Redis costs fewer round trips rather than reordering anything.
 * The log is a side channel: if Redis fails, the sink stops writing (streams then end with the
 * terminal event rebuilt from MongoDB) and the call itself goes on.
 */
export class EventSink {
  private queue: LogEvent[] = [];
  private running: Promise<void> | null = null;
  /** Events handed to emit(), to tell whether any output reached clients. */
  emitted = 0;
  /** Closed by the api (cancel), broken by a Redis failure, or muted for a re-run. */
  closed = false;
  broken: unknown = null;
  muted = false;
  /** Bytes handed to the log; past the bound, output reaches clients only through the final event. */
  private bytes = 0;

  constructor(
    private readonly appendBatch: (events: LogEvent[]) => Promise<number>,
    private readonly maxBytes = Infinity,
  ) {}

  emit(event: LogEvent): void {
    this.emitted++;
    if (this.closed || this.broken || this.muted) return;
    this.bytes += event.data.length;
    if (this.bytes > this.maxBytes) return;
    this.queue.push(event);
    this.running ??= this.drain();
  }

  /** Output from an earlier attempt is already in the log: repeating it would corrupt streams. */
  mute(): void {
    this.muted = true;
  }

  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.closed) {
        const batch = this.queue;
        this.queue = [];
        if ((await this.appendBatch(batch)) < 0) this.closed = true; // cancelled: the api closed the log
      }
    } catch (err) {
      this.broken = err;
      this.queue = [];
    } finally {
      this.running = null;
    }
  }
}
