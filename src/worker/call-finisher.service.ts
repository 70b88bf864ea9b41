import { EphemeralCallStore } from './ephemeral-call-store';
import { Inject, Injectable } from '@nestjs/common';
import { type CallKind, kindLabel } from '../application/call-kinds';
import type { AppConfig } from '../config/app-config';
import {
  ACTIVE_STATUSES,
  type CallChanges,
  type CallErrorInfo,
  type CallKey,
  type CallRecord,
  isPendingConversationTurn,
} from '../domain/call';
import { costCoins } from '../domain/pricing';
import { EventLog } from '../infra/event-log.service';
import { BusChannel } from '../infra/jobs';
import type { Logger } from '../infra/logger';
import { Metrics } from '../infra/metrics.service';
import { isOutage, StoreUnavailableError } from '../infra/outage';
import { RateLimiter } from '../infra/rate-limiter.service';
import { RedisBus } from '../infra/redis-bus.service';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import { TurnHistory } from './turn-history.service';
import { WebhookDispatcher } from '../application/webhook-dispatcher.service';

/** The call a terminal write is for; `background` decides whether it owes a webhook event (read when not given). */
export type FinishTarget = CallKey & { background?: boolean };

/** Tokens of one call, as the upstream reported them or as counted from its output. */
export interface Tokens {
  input: number;
  output: number;
}

/**
 * The worker's writes at the end of a call: the terminal transition (conditional, so it happens once), usage and
 * cost, and the notices that follow it (the caller's slot freed, the event log closed, waiters woken). MongoDB steps
 * are retried while MongoDB is away, for up to STORE_WRITE_RETRY_MS when an upstream answer is at stake.
 */
@Injectable()
export class CallFinisher {
  private readonly log: Logger;
  private readonly unpricedModels = new Set<string>();

  constructor(
    private readonly bus: RedisBus,
    private readonly events: EventLog,
    private readonly limiter: RateLimiter,
    private readonly turns: TurnHistory,
    private readonly webhooks: WebhookDispatcher,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ ctx: 'CallFinisher' });
  }

  /** The result of an upstream answer; null when the call was cancelled or deleted meanwhile. */
  async complete<R extends CallRecord>(
    kind: CallKind<R>,
    key: FinishTarget,
    changes: CallChanges<R>,
    tokens: Tokens,
    model: string,
  ): Promise<R | null> {
    const owed = this.webhooks.owed(await this.isBackground(kind, key), key.userId);
    const done = await this.store(
      () => kind.repo.transition(key, ['in_progress'], { ...changes, ...this.usageChanges(tokens, model), ...owed }),
      this.config.storeWriteRetryMs,
    );
    if (done) await this.announceTerminal(kind, done);
    if (done && isPendingConversationTurn(done)) {
      // The recovery sweep adds the turn later if this fails.
      await this.turns
        .recordTurn(done)
        .catch((err: Error) =>
          this.log.warn({ err: err.message, id: done.responseId }, 'turn not added to its conversation yet'),
        );
    }
    return done;
  }

  /** Records a final failure once (last attempt, or a job that stalled too often), with what was produced. */
  async fail<R extends CallRecord>(
    kind: CallKind<R>,
    key: FinishTarget,
    error: CallErrorInfo,
    errorStatus: number | null,
    produced: { tokens: Tokens; model: string } | null = null,
  ): Promise<boolean> {
    const usage = produced ? this.usageChanges(produced.tokens, produced.model) : {};
    const owed = this.webhooks.owed(await this.isBackground(kind, key), key.userId);
    const changes = { status: 'failed', error, errorStatus, ...usage, ...owed } as CallChanges<R>;
    const failed = await this.store(
      () => kind.repo.transition(key, ACTIVE_STATUSES, changes),
      this.config.storeWriteRetryMs,
    );
    if (failed) await this.announceTerminal(kind, failed);
    return failed !== null;
  }

  /**
   * A call that ended (cancelled, or its result dropped) after the upstream produced output is billed for it, as
   * OpenAI bills cancelled responses for the tokens generated. The status stays as it is.
   */
  async bill<R extends CallRecord>(kind: CallKind<R>, key: CallKey, tokens: Tokens, model: string): Promise<void> {
    if (tokens.input === 0 && tokens.output === 0) return;
    const changes = this.usageChanges(tokens, model) as CallChanges<R>;
    await this.store(() => kind.repo.recordUsage(key, changes), this.config.storeWriteRetryMs);
  }

  /**
   * A MongoDB step. While MongoDB is away it is retried with backoff for up to `retryMs`; after that (or at once when
   * retryMs is 0) a StoreUnavailableError hands the job back to the queue without spending one of its attempts.
   */
  async store<T>(step: () => Promise<T>, retryMs = 0): Promise<T> {
    const deadline = Date.now() + retryMs;
    for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
      try {
        return await step();
      } catch (err) {
        if (!isOutage(err)) throw err;
        if (Date.now() + wait > deadline) throw new StoreUnavailableError(err);
        this.log.warn({ err: (err as Error).message, retryInMs: wait }, 'MongoDB unavailable; retrying the write');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** Whether the call is a background one (it then owes a webhook event); read from its record when not known. */
  private async isBackground<R extends CallRecord>(kind: CallKind<R>, key: FinishTarget): Promise<boolean> {
    if (key.background !== undefined) return key.background;
    const record = await this.store(() => kind.repo.find(key), this.config.storeWriteRetryMs);
    return record?.background ?? false;
  }

  private usageChanges(tokens: Tokens, model: string): Record<string, unknown> {
    return {
      'commonData.usage': { input_text: tokens.input, output_text: tokens.output },
      'commonData.costCoins': this.cost(model, tokens),
    };
  }

  private cost(model: string, tokens: Tokens): number {
    const coins = costCoins(this.config.priceTable, model, tokens.input, tokens.output);
    if (coins !== null) return coins;
    if (!this.unpricedModels.has(model)) {
      this.unpricedModels.add(model);
      this.log.warn({ model }, 'no price for this model in PRICE_TABLE; recording costCoins 0');
    }
    return 0;
  }

  /** Frees the caller's slot, closes the event log with the final event, wakes waiters. */
  private async announceTerminal<R extends CallRecord>(kind: CallKind<R>, record: R): Promise<void> {
    const id = record.responseId;
    this.metrics.callsFinished.inc({ kind: kindLabel(kind), status: record.status });
    // Independent steps, sent together: stream tailers are woken by the append itself, and synchronous waiters read
    // the record (already final) when the notice wakes them.
    // A call that keeps nothing released its slot, and was announced with its result, by the step that ended it
    // (EphemeralCallStore.transition).
    const held = kind.repo instanceof EphemeralCallStore;
    const [, ...notices] = await Promise.allSettled([
      held ? Promise.resolve() : this.limiter.release(record.keyId, id),
      kind.logsEvents(record) ? this.events.append(id, [kind.terminalEvent(record)]) : Promise.resolve(),
      held ? Promise.resolve() : this.bus.publish(BusChannel.Terminal, id),
    ]);
    for (const n of notices) {
      // Tailers and waiters also re-read MongoDB, so a lost notice only delays them.
      if (n.status === 'rejected') this.log.warn({ err: String(n.reason), id }, 'could not publish the terminal event');
    }
    // After the notices: clients hear of the end first. A failure here leaves the event owed (the sweep sends it).
    await this.webhooks.dispatch(kind, record);
  }
}
