import { Inject, Injectable } from '@nestjs/common';
import { LOGGER } from '../config/tokens';
import type { CallKey, CallRecord } from '../domain/call';
import type { Caller } from '../domain/caller';
import { AppError } from '../domain/errors';
import type { LogEvent } from '../domain/events';
import type { RequestContext } from '../domain/request-context';
import { EventLog } from '../infra/event-log.service';
import { JobProducer } from '../infra/job-producer.service';
import type { Logger } from '../infra/logger';
import { Metrics } from '../infra/metrics.service';
import { isOutage } from '../infra/outage';
import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimiter } from '../infra/rate-limiter.service';
import { IdempotencyRepository } from '../persistence/idempotency.repository';
import { type CallKind, kindLabel } from './call-kinds';

/** How long a retry waits for the record of a first request that claimed its Idempotency-Key, and how often it looks. */
const CLAIM_WAIT_MS = 10_000;
const CLAIM_POLL_MS = 50;

/** A record as JSON for a job's data (dates as ISO strings). */
const toJson = (record: CallRecord): Record<string, unknown> =>
  JSON.parse(JSON.stringify(record)) as Record<string, unknown>;

/** An accepted call, or the call an earlier request with the same Idempotency-Key made. */
export interface Admitted<R extends CallRecord> {
  record: R;
  replayed: boolean;
}

/**
 * The api's way in for a call: the same Idempotency-Key returns the call it made, the caller's limits come next
 * (429 when over), then the record is written, its first events logged and its job enqueued. Anything failing on the
 * way frees what it took (the limit's slot, the key), so nothing is left accepted without a job.
 */
@Injectable()
export class CallAdmission {
  private readonly log: Logger;

  constructor(
    private readonly producer: JobProducer,
    private readonly events: EventLog,
    private readonly limiter: RateLimiter,
    private readonly idempotency: IdempotencyRepository,
    private readonly metrics: Metrics,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'CallAdmission' });
  }

  async accept<R extends CallRecord>(
    kind: CallKind<R>,
    caller: Caller,
    id: string,
    ctx: RequestContext,
    write: () => Promise<R>,
    firstEvents: (r: R) => LogEvent[],
  ): Promise<Admitted<R>> {
    const idemKey = ctx.idempotencyKey;
    if (idemKey) {
      const claim = { userId: caller.userId, key: idemKey, bodyHash: ctx.reqBodyHash, callId: id };
      // A second try claims again only when the first request's claim was released (its call was never made).
      for (let tries = 0; ; tries++) {
        const earlier = await this.idempotency.claim(claim);
        if (!earlier) break;
        const record = await this.earlierCall(kind, caller, earlier, ctx.reqBodyHash, idemKey);
        if (record) return { record, replayed: true };
        if (tries > 0) throw AppError.unavailable();
      }
    }
    const key: CallKey = { userId: caller.userId, responseId: id };
    // The limits and the record's write are independent: sent together, and the record goes if the limits refuse.
    const [admitted, written] = await Promise.allSettled([this.limiter.admit(caller, id), write()]);
    if (admitted.status === 'rejected') {
      if (written.status === 'fulfilled') await kind.repo.remove(key).catch(() => undefined);
      if (idemKey) await this.idempotency.release(caller.userId, idemKey, id);
      throw admitted.reason;
    }
    try {
      if (written.status === 'rejected') throw written.reason;
      const record = written.value;
      // Fair share between keys: a call waits behind the calls of keys with fewer in flight than its own.
      await this.enqueue(kind, record, firstEvents(record), admitted.value.inFlight);
      return { record, replayed: false };
    } catch (err) {
      await this.limiter.release(caller.keyId, id);
      // The key stays with a call that still exists (its removal failed; the recovery sweep will run it).
      if (idemKey && !(await kind.repo.find(key).catch(() => null))) {
        await this.idempotency.release(caller.userId, idemKey, id).catch(() => undefined);
      }
      throw err;
    }
  }

  /**
   * A call that keeps nothing (domain/ephemeral): no MongoDB on the way in. The caller's limits, then its first events
   * if it streams, then its job, which carries the record itself. Anything failing frees the limit's slot.
   */
  async acceptHeld<R extends CallRecord>(
    kind: CallKind<R>,
    caller: Caller,
    record: R,
    firstEvents: LogEvent[],
  ): Promise<void> {
    const id = record.responseId;
    const { inFlight } = await this.limiter.admit(caller, id);
    try {
      if (firstEvents.length > 0) await this.events.append(id, firstEvents);
      const payload = { userId: record.userId, responseId: id, requestId: record.omgUrId, keyId: record.keyId };
      await this.producer.enqueue(kind.job, id, { ...payload, call: toJson(record) }, record.route, inFlight);
    } catch (err) {
      this.log.error({ err, id, requestId: record.omgUrId }, 'enqueue failed');
      await this.limiter.release(caller.keyId, id).catch(() => undefined);
      if (firstEvents.length > 0) await this.events.delete(id).catch(() => undefined);
      if (isOutage(err)) throw AppError.unavailable();
      throw err;
    }
  }

  /**
   * Logs the first events (if any), then enqueues `{id}` for a written record; if that fails, the record is removed
   * (it never ran and was never answered, so nothing of it is kept). Only an outage answers 503, which clients retry.
   */
  async enqueue<R extends CallRecord>(
    kind: CallKind<R>,
    record: R,
    firstEvents: LogEvent[] = [],
    priority = 1,
  ): Promise<void> {
    const key: CallKey = { userId: record.userId, responseId: record.responseId };
    try {
      if (firstEvents.length > 0) await this.events.append(record.responseId, firstEvents);
      const payload = { ...key, requestId: record.omgUrId, keyId: record.keyId };
      await this.producer.enqueue(kind.job, record.responseId, payload, record.route, priority);
    } catch (err) {
      this.log.error({ err, id: record.responseId, requestId: record.omgUrId }, 'enqueue failed; removing the record');
      // If the removal fails too, the recovery sweep runs the call later (and an Idempotency-Key retry finds it).
      await kind.repo.remove(key).catch((e: unknown) => this.log.error({ err: e, id: key.responseId }, 'not removed'));
      if (isOutage(err)) throw AppError.unavailable();
      throw err;
    }
    this.metrics.callsAccepted.inc({ kind: kindLabel(kind), background: String(record.background) });
    this.log.info(
      { id: record.responseId, requestId: record.omgUrId, background: record.background },
      `${kind.noun} accepted`,
    );
  }

  /** The call a key already made: the same body gets it back, another body is a conflict (409, not retried). */
  private async earlierCall<R extends CallRecord>(
    kind: CallKind<R>,
    caller: Caller,
    earlier: { bodyHash: string; callId: string },
    bodyHash: string,
    idemKey: string,
  ): Promise<R | null> {
    if (earlier.bodyHash !== bodyHash) {
      const message = 'This Idempotency-Key was already used with a different request body.';
      throw new AppError('conflict', message, {
        param: 'Idempotency-Key',
        code: 'idempotency_key_reused',
        retryable: false,
      });
    }
    const key: CallKey = { userId: caller.userId, responseId: earlier.callId };
    // The first request may still be between its claim and its write: wait for the record (bounded), or for the
    // claim to be released (that call was never made; null lets this request claim the key for itself).
    for (const started = Date.now(); ; await sleep(CLAIM_POLL_MS)) {
      const record = await kind.repo.find(key);
      if (record) return record;
      // Written, and not found: gone (deleted, or store: false), unless it was written between the two reads.
      if (await kind.repo.wasWritten(key)) {
        const late = await kind.repo.find(key);
        if (late) return late;
        break;
      }
      if (!(await this.idempotency.holds(caller.userId, idemKey, earlier.callId))) return null;
      if (Date.now() - started > CLAIM_WAIT_MS) break;
    }
    const message =
      'A request with this Idempotency-Key already ran, and its result was not kept (store: false, or deleted).';
    throw new AppError('conflict', message, { code: 'idempotency_key_used', retryable: false });
  }
}
