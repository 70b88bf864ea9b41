import { chatRecord, fake, MemoryStore, silentLogger, testConfig } from '../../test/support/fakes';
import type { CallKey, CallRecord, ChatCompletionRecord } from '../domain/call';
import { AppError } from '../domain/errors';
import type { EphemeralCalls } from '../infra/ephemeral-calls.service';
import type { EventLog } from '../infra/event-log.service';
import type { JobProducer } from '../infra/job-producer.service';
import type { RateLimiter } from '../infra/rate-limiter.service';
import { Metrics } from '../infra/metrics.service';
import type { RedisBus } from '../infra/redis-bus.service';
import type { CallRecordStore } from '../persistence/call-records.repository';
import type { ChatCompletionsRepository } from '../persistence/chat-completions.repository';
import { type CallKind, ChatCalls } from './call-kinds';
import { CallLifecycle } from './call-lifecycle.service';
import type { TerminalWaiter, WaitResult } from './terminal-waiter.service';
import { type WebhookDirectory } from './webhook-directory.service';
import { WebhookDispatcher } from './webhook-dispatcher.service';
import type { DeliverWebhookPayload } from '../infra/jobs';
import type {
  NewDelivery,
  WebhookDeliveriesRepository,
  WebhookEndpointsRepository,
} from '../persistence/webhooks.repository';
import type { WebhookEndpointRecord } from '../domain/webhooks';

/** The lifecycle of synchronous calls with the waiter's four outcomes, against fakes of everything around it. */
function setup(outcome: WaitResult<CallRecord>['kind']) {
  const store = new MemoryStore<ChatCompletionRecord>();
  const logsDeleted: string[] = [];
  const published: string[] = [];
  const chat = new ChatCalls(fake<ChatCompletionsRepository>({}));
  const kind: CallKind<ChatCompletionRecord> = {
    job: chat.job,
    noun: chat.noun,
    webhookSubject: chat.webhookSubject,
    repo: fake<CallRecordStore<ChatCompletionRecord>>(store),
    notFound: (id) => chat.notFound(id),
    logsEvents: () => false,
    terminalEvent: (r) => chat.terminalEvent(r),
    acceptedEvents: () => [],
  };
  const enqueued: DeliverWebhookPayload[] = [];
  const deliveries: NewDelivery[] = [];
  const endpoint: WebhookEndpointRecord = {
    endpointId: 'we_1',
    userId: 'u1',
    url: 'http://127.0.0.1:1/hook',
    events: [],
    enabled: true,
    secret: 'whsec_dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg==',
    previousSecret: null,
    previousSecretUntil: null,
    createdAt: new Date(),
    updatedAt: new Date(),
  };
  const producer = fake<JobProducer>({
    removeIfWaiting: async () => true,
    enqueueDelivery: async (p: DeliverWebhookPayload) => void enqueued.push(p),
  });
  const webhooks = new WebhookDispatcher(
    fake<WebhookEndpointsRepository>({ enabledFor: async (u: string) => (u === 'u1' ? [endpoint] : []) }),
    fake<WebhookDeliveriesRepository>({ ensure: async (d: NewDelivery) => void deliveries.push(d) }),
    producer,
    fake<WebhookDirectory>({ mayWant: () => true }),
    testConfig(),
    silentLogger,
  );
  const lifecycle = new CallLifecycle(
    producer,
    fake<TerminalWaiter>({
      wait: async <R extends CallRecord>(repo: CallRecordStore<R>, k: CallKey): Promise<WaitResult<R>> =>
        outcome === 'done' ? { kind: 'done', record: (await repo.find(k))! } : { kind: outcome },
    }),
    fake<RedisBus>({ publish: async (channel: string, id: string) => void published.push(`${channel}:${id}`) }),
    fake<EventLog>({ delete: async (id: string) => void logsDeleted.push(id), close: async () => 0 }),
    fake<RateLimiter>({ release: async () => undefined }),
    webhooks,
    new Metrics(testConfig()),
    fake<EphemeralCalls>({}),
    testConfig({ SYNC_TIMEOUT_MS: '2000' }),
    silentLogger,
  );
  return { store, kind, lifecycle, logsDeleted, published, enqueued, deliveries };
}

const key = { userId: 'u1', responseId: 'chatcmpl-1' };
const signal = new AbortController().signal;

describe('CallLifecycle.awaitResult', () => {
  it('done: answers the record; a store: false one keeps only its tombstone, and its log is removed', async () => {
    const t = setup('done');
    t.store.put(chatRecord({ status: 'completed' }));
    expect((await t.lifecycle.awaitResult(t.kind, key, signal))?.status).toBe('completed');
    expect(t.store.deleted).toEqual(['chatcmpl-1']);
    expect(t.logsDeleted).toEqual(['chatcmpl-1']);
  });

  it('done: a stored call stays as it is', async () => {
    const t = setup('done');
    t.store.put(chatRecord({ status: 'completed', store: true }));
    await t.lifecycle.awaitResult(t.kind, key, signal);
    expect(t.store.deleted).toEqual([]);
  });

  it('done but failed: the upstream status is answered, not to be retried, and store: false is still forgotten', async () => {
    const t = setup('done');
    const error = { code: 'invalid_prompt', message: 'bad prompt' };
    t.store.put(chatRecord({ status: 'failed', error, errorStatus: 400 }));
    const err = await t.lifecycle.awaitResult(t.kind, key, signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({
      kind: 'upstream_failed',
      message: 'bad prompt',
      details: { status: 400, retryable: false },
    });
    expect(t.store.deleted).toEqual(['chatcmpl-1']);
  });

  it('aborted (the client left): the call is cancelled and, with store: false, forgotten', async () => {
    const t = setup('aborted');
    t.store.put(chatRecord({ status: 'in_progress' }));
    expect(await t.lifecycle.awaitResult(t.kind, key, signal)).toBeNull();
    expect(t.store.records.get('chatcmpl-1')?.status).toBe('cancelled');
    expect(t.published).toContain('cancel:chatcmpl-1');
    expect(t.store.deleted).toEqual(['chatcmpl-1']);
    expect(t.logsDeleted).toEqual(['chatcmpl-1']);
  });

  it('timeout: 504, not to be retried; the call is cancelled and, with store: false, forgotten', async () => {
    const t = setup('timeout');
    t.store.put(chatRecord({ status: 'queued' }));
    const err = await t.lifecycle.awaitResult(t.kind, key, signal).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout', code: 'timeout', details: { retryable: false } });
    expect((err as Error).message).toContain('did not finish within 2 seconds');
    expect(t.store.records.get('chatcmpl-1')?.status).toBe('cancelled');
    expect(t.store.deleted).toEqual(['chatcmpl-1']);
  });

  it('timeout of a stored call: cancelled, and kept', async () => {
    const t = setup('timeout');
    t.store.put(chatRecord({ status: 'in_progress', store: true }));
    await t.lifecycle.awaitResult(t.kind, key, signal).catch(() => undefined);
    expect(t.store.records.get('chatcmpl-1')?.status).toBe('cancelled');
    expect(t.store.deleted).toEqual([]);
  });

  it('gone (deleted meanwhile): 404', async () => {
    const t = setup('gone');
    await expect(t.lifecycle.awaitResult(t.kind, key, signal)).rejects.toMatchObject({ kind: 'not_found' });
  });
});

describe('CallLifecycle.cancel and webhooks', () => {
  it('a background cancel that wins owes one event, enqueued once; a second cancel enqueues nothing', async () => {
    const t = setup('done');
    t.store.put(chatRecord({ status: 'in_progress', background: true, store: true }));
    const first = await t.lifecycle.cancel(t.kind, (await t.store.find(key))!, async () => (await t.store.find(key))!);
    expect(first.status).toBe('cancelled');
    expect(t.deliveries).toHaveLength(1);
    expect(t.deliveries[0]).toMatchObject({
      endpointId: 'we_1',
      eventType: 'chat.completion.cancelled',
      subjectId: key.responseId,
    });
    expect(t.enqueued).toEqual([
      { deliveryId: t.deliveries[0].deliveryId, endpointId: 'we_1', eventId: t.deliveries[0].eventId },
    ]);
    const stored = t.store.records.get(key.responseId)!;
    expect(stored.webhookEvent?.id).toBe(t.deliveries[0].eventId);
    expect(stored.webhookPending).toBe(false);
    await t.lifecycle.cancel(t.kind, (await t.store.find(key))!, async () => (await t.store.find(key))!);
    expect(t.enqueued).toHaveLength(1);
  });

  it('a synchronous call cancelled on timeout owes no event', async () => {
    const t = setup('timeout');
    t.store.put(chatRecord({ status: 'in_progress', store: true }));
    await t.lifecycle.awaitResult(t.kind, key, signal).catch(() => undefined);
    expect(t.store.records.get(key.responseId)?.status).toBe('cancelled');
    expect(t.store.records.get(key.responseId)?.webhookPending).toBe(false);
    expect(t.enqueued).toEqual([]);
  });
});
