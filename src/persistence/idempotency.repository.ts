import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { Logger } from 'pino';
import { LOGGER } from '../config/tokens';
import { IDEMPOTENCY_MODEL, type IdempotencyKeyRecord } from './idempotency.schema';

/** How long a key names its call: a retry within this window gets the same call. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600_000;

const isDuplicateKey = (err: unknown) => (err as { code?: unknown })?.code === 11000;

@Injectable()
export class IdempotencyRepository implements OnModuleInit {
  private readonly log: Logger;

  constructor(
    @InjectModel(IDEMPOTENCY_MODEL) private readonly model: Model<IdempotencyKeyRecord>,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'Idempotency' });
  }

  /**
   * Keys older than the window are removed by a TTL index where the server has them. FerretDB (our test server) does
   * not, so lookups also treat an older key as absent: correct on both, only tidier on MongoDB.
   */
  async onModuleInit(): Promise<void> {
    const ttl = { expireAfterSeconds: IDEMPOTENCY_WINDOW_MS / 1000, name: 'ttl_createdAt' };
    await this.model.collection.createIndex({ createdAt: 1 }, ttl).catch((err: Error) => {
      this.log.info({ err: err.message }, 'no TTL index on idempotency keys; expired keys are skipped on lookup');
    });
  }

  /**
   * Claims `key` for a new call; when the caller already used it within the window, returns that entry instead. An
   * entry past the window is taken over (one conditional update, so two claimers cannot both win it).
   */
  async claim(entry: Omit<IdempotencyKeyRecord, 'createdAt'>): Promise<IdempotencyKeyRecord | null> {
    const now = new Date();
    try {
      await this.model.create({ ...entry, createdAt: now });
      return null;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const filter = { userId: entry.userId, key: entry.key };
    const existing = await this.model.findOne(filter).lean<IdempotencyKeyRecord>().exec();
    if (existing && now.getTime() - new Date(existing.createdAt).getTime() < IDEMPOTENCY_WINDOW_MS) return existing;
    const stale = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS);
    const taken = await this.model
      .findOneAndUpdate({ ...filter, createdAt: { $lt: stale } }, { $set: { ...entry, createdAt: now } })
      .exec();
    if (taken) return null;
    // Another request claimed it in the meantime: that one is the call.
    return this.model.findOne(filter).lean<IdempotencyKeyRecord>().exec();
  }

  /** Whether `key` is still claimed for `callId` (a claim is released when its call was never made). */
  async holds(userId: string, key: string, callId: string): Promise<boolean> {
    return (await this.model.exists({ userId, key, callId }).exec()) !== null;
  }

  /** Frees a key whose call was never made (refused, or rolled back), so a retry can make it. */
  async release(userId: string, key: string, callId: string): Promise<void> {
    await this.model.deleteOne({ userId, key, callId }).exec();
  }
}
