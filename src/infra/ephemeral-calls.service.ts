import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { type RedisClient, RedisConnections } from './redis-connections';
import { APP_CONFIG } from '../config/tokens';

/** How long a finished call's result waits in Redis for its api (which removes it once read). */
const RESULT_TTL_S = 120;
/**
 * How long the worker remembers that a call was answered, with its tombstone: a job run again after its worker died
 * between the answer and the tombstone then writes the tombstone instead of calling the upstream a second time.
 */
const ANSWERED_TTL_S = 7 * 24 * 3600;
/** How long a cancel of a call without a record is remembered (longer than any synchronous call lives). */
const CANCEL_TTL_S = 3600;

/**
 * Redis state of the calls that keep nothing (domain/ephemeral): their result for the api, the mark that they were
 * answered, and their cancel flag (what the MongoDB record's `cancelled` status is for a kept call). One hash tag per
 * call, so a call's keys share a slot.
 */
@Injectable()
export class EphemeralCalls {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly redis: RedisConnections,
  ) {}

  private get r(): RedisClient {
    return this.redis.commands();
  }

  private key(id: string, what: 'result' | 'answered' | 'cancel'): string {
    return `${this.config.queuePrefix}:eph:{${id}}:${what}`;
  }

  /** Worker: the finished record for the api, and the tombstone to write should this job run again, in one trip. */
  async putResult(id: string, result: object, tombstone: object): Promise<void> {
    await this.r
      .multi()
      .set(this.key(id, 'result'), JSON.stringify(result), 'EX', RESULT_TTL_S)
      .set(this.key(id, 'answered'), JSON.stringify(tombstone), 'EX', ANSWERED_TTL_S)
      .exec();
  }

  async result(id: string): Promise<Record<string, unknown> | null> {
    const raw = await this.r.get(this.key(id, 'result'));
    return raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
  }

  /** Api, once answered: the result goes (best-effort; it expires anyway). */
  async dropResult(id: string): Promise<void> {
    await this.r.unlink(this.key(id, 'result'));
  }

  /** The tombstone of a call already answered (a job run again), or null. */
  async answered(id: string): Promise<Record<string, unknown> | null> {
    const raw = await this.r.get(this.key(id, 'answered'));
    return raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
  }

  /** Api: the durable half of a cancel (the bus is the fast half); a worker re-reads it every CANCEL_POLL_MS. */
  async cancel(id: string): Promise<void> {
    await this.r.set(this.key(id, 'cancel'), '1', 'EX', CANCEL_TTL_S);
  }

  async isCancelled(id: string): Promise<boolean> {
    return (await this.r.exists(this.key(id, 'cancel'))) === 1;
  }
}
