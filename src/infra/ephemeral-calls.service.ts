import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { bullmqPrefix, type RedisClient, RedisConnections } from './redis-connections';
import { APP_CONFIG } from '../config/tokens';
import { RedisBus } from './redis-bus.service';
import { BusChannel } from './jobs';

/** How long a finished call's result waits in Redis for its api (which removes it once read). */
const RESULT_TTL_S = 120;
/** How long a cancel of a call without a record is remembered (longer than any synchronous call lives). */
const CANCEL_TTL_S = 3600;
/**
 * A result up to this size travels in its terminal notice, so the api answers without reading it back; a bigger
 * one is read from its key (pub/sub reaches every api replica, so large payloads stay out of it).
 */
const NOTICE_RESULT_MAX = 64 * 1024;

/**
 * The end of a call that keeps nothing, in one step: its job's data replaced by the finished record without its
 * content (BullMQ's own updateData, which this mirrors: only if the job still exists), the result for the api, and
 * the terminal notice. Atomic, so a job found with a finished record was answered, and one still holding its content
 * was not.
 * KEYS: job hash, result. ARGV: job data, result, result TTL, channel, notice.
 */
const FINISH = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'data', ARGV[1]) end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`;

type FinishingClient = RedisClient & {
  finishHeld(jobKey: string, resultKey: string, ...args: (string | number)[]): Promise<number>;
};

/**
 * Redis state of the calls that keep nothing (domain/ephemeral): their result for the api and their cancel flag
 * (what the MongoDB record's `cancelled` status is for a kept call). The keys share BullMQ's prefix (hash-tagged on a
 * cluster), so a call's end and its job are one slot.
 */
@Injectable()
export class EphemeralCalls {
  private readonly r: FinishingClient;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    connections: RedisConnections,
    private readonly bus: RedisBus,
  ) {
    // The shared command connection, as the rate limiter's (which defines its script the same way).
    this.r = connections.commands() as FinishingClient;
    this.r.defineCommand('finishHeld', { numberOfKeys: 2, lua: FINISH });
  }

  private key(id: string, what: 'result' | 'cancel'): string {
    return `${bullmqPrefix(this.config)}:eph:${id}:${what}`;
  }

  /**
   * Worker: the job forgets the call's content (keeping `jobData`, the finished record without it), the api gets the
   * result and the notice, in one trip.
   */
  async finish(id: string, jobKey: string, jobData: object, result: object): Promise<void> {
    const json = JSON.stringify(result);
    const notice = Buffer.byteLength(json) <= NOTICE_RESULT_MAX ? `${id}\n${json}` : id;
    const channel = this.bus.channel(BusChannel.Terminal);
    await this.r.finishHeld(
      jobKey,
      this.key(id, 'result'),
      JSON.stringify(jobData),
      json,
      RESULT_TTL_S,
      channel,
      notice,
    );
  }

  async result(id: string): Promise<Record<string, unknown> | null> {
    const raw = await this.r.get(this.key(id, 'result'));
    return raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
  }

  /** Api, once answered: the result goes (best-effort; it expires anyway). */
  async dropResult(id: string): Promise<void> {
    await this.r.unlink(this.key(id, 'result'));
  }

  /** Api: the durable half of a cancel (the bus is the fast half); a worker re-reads it every CANCEL_POLL_MS. */
  async cancel(id: string): Promise<void> {
    await this.r.set(this.key(id, 'cancel'), '1', 'EX', CANCEL_TTL_S);
  }

  async isCancelled(id: string): Promise<boolean> {
    return (await this.r.exists(this.key(id, 'cancel'))) === 1;
  }
}
