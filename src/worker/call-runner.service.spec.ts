import { chatRecord, fake, MemoryStore, silentLogger, testConfig } from '../../test/support/fakes';
import type { CallKind } from '../application/call-kinds';
import type { WebhookDispatcher } from '../application/webhook-dispatcher.service';
import type { CallKey, CallStatus, ChatCompletionRecord } from '../domain/call';
import type { EventLog } from '../infra/event-log.service';
import type { RateLimiter } from '../infra/rate-limiter.service';
import type { RedisBus } from '../infra/redis-bus.service';
import type { CallRecordStore } from '../persistence/call-records.repository';
import { CallFinisher } from './call-finisher.service';
import { CallRunner, type RunContext } from './call-runner.service';
import type { UpstreamProtocol } from './protocols/protocol';
import type { TurnHistory } from './turn-history.service';
import type { UpstreamClient } from './upstream.client';
import { UpstreamError } from './upstream-error';
import { Metrics } from '../infra/metrics.service';

/** A store whose first terminal write fails the way a refused document does (not an outage). */
class RefusingStore extends MemoryStore<ChatCompletionRecord> {
  refusals = 1;

  async claim(key: CallKey): Promise<ChatCompletionRecord | null> {
    const before = await this.find(key);
    if (!before || !['queued', 'in_progress'].includes(before.status)) return null;
    this.put({ ...before, status: 'in_progress', upstreamCalls: before.upstreamCalls + 1 });
    return before;
  }

  override async transition(key: CallKey, from: readonly CallStatus[], changes: Partial<ChatCompletionRecord>) {
    if (changes.status === 'completed' && this.refusals-- > 0) {
      throw Object.assign(new Error('document is larger than the maximum size'), {
        name: 'MongoServerError',
        code: 10334,
      });
    }
    return super.transition(key, from, changes);
  }
}

function setup(protocol: Partial<UpstreamProtocol<ChatCompletionRecord>>) {
  const store = new RefusingStore();
  store.put(chatRecord({ status: 'queued', store: true }));
  const kind = fake<CallKind<ChatCompletionRecord>>({
    noun: 'chat completion',
    repo: fake<CallRecordStore<ChatCompletionRecord>>(store),
    logsEvents: () => false,
  });
  const config = testConfig({ STORE_WRITE_RETRY_MS: '0', CANCEL_POLL_MS: '600000' });
  const bus = fake<RedisBus>({ publish: async () => undefined });
  const events = fake<EventLog>({});
  const metrics = new Metrics(config);
  const finisher = new CallFinisher(
    bus,
    events,
    fake<RateLimiter>({ release: async () => undefined }),
    fake<TurnHistory>({}),
    // Synchronous calls owe no event; the dispatcher's own decisions are tested with the lifecycle.
    fake<WebhookDispatcher>({ owed: () => ({}), dispatch: async () => undefined }),
    metrics,
    config,
    silentLogger,
  );
  const runner = new CallRunner(events, finisher, metrics, config, silentLogger);
  const full: UpstreamProtocol<ChatCompletionRecord> = {
    execute: async () => ({}),
    result: () => ({ changes: { status: 'completed' }, tokens: { input: 3, output: 5 } }),
    isLifecycleEvent: () => false,
    startedEvents: () => [],
    ...protocol,
  };
  return { store, run: (ctx: Partial<RunContext> = {}) => runner.run(kind, full, job, { ...baseCtx, ...ctx }) };
}

const job = { userId: 'u1', responseId: 'chatcmpl-1', requestId: 'req_1' };
const baseCtx: RunContext = {
  attempt: 1,
  maxAttempts: 3,
  signal: new AbortController().signal,
  upstream: fake<UpstreamClient>({}),
  pauseRoute: async () => undefined,
  moveTo: async () => undefined,
};

describe('CallRunner after the upstream answered', () => {
  it('a result that cannot be stored ends the call failed, with a plain message, and never calls the upstream again', async () => {
    let upstreamCalls = 0;
    const t = setup({ execute: async () => (upstreamCalls++, { choices: [] }) });
    expect(await t.run()).toBe('failed');
    const record = t.store.records.get('chatcmpl-1')!;
    expect(record.status).toBe('failed');
    expect(record.error).toEqual({ code: 'server_error', message: 'The chat completion could not be stored.' });
    expect(JSON.stringify(record.error)).not.toContain('maximum size');
    // Usage of what the upstream did is still recorded.
    expect(record.commonData.usage).toEqual({ input_text: 3, output_text: 5 });
    expect(upstreamCalls).toBe(1);
  });

  it('a mapping that throws (a malformed answer) fails the call once, without a retry', async () => {
    let upstreamCalls = 0;
    const t = setup({
      execute: async () => (upstreamCalls++, {}),
      result: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'length')");
      },
    });
    expect(await t.run()).toBe('failed');
    expect(t.store.records.get('chatcmpl-1')!.error?.message).toBe('The chat completion could not be stored.');
    expect(upstreamCalls).toBe(1);
  });

  it('a transient upstream failure is retried; its text is passed on without the configured key', async () => {
    const secret = testConfig().upstreamSecrets;
    expect(secret).toEqual([]); // no key configured in this config: nothing to redact
    const t = setup({
      execute: async () => {
        throw new UpstreamError('overloaded, Bearer sk-live-123 was sent', 503, true);
      },
    });
    await expect(t.run()).rejects.toMatchObject({
      name: 'RetryableJobError',
      message: 'overloaded, Bearer [redacted] was sent',
    });
    expect(await t.run({ attempt: 3 })).toBe('failed');
    expect(t.store.records.get('chatcmpl-1')!.error?.message).toBe(
      'overloaded, Bearer [redacted] was sent (after 3 attempts)',
    );
  });
});
