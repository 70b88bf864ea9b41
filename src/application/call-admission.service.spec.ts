import { chatRecord, fake, MemoryStore, silentLogger, testConfig } from '../../test/support/fakes';
import type { Caller } from '../domain/caller';
import type { ChatCompletionRecord } from '../domain/call';
import { AppError } from '../domain/errors';
import type { RequestContext } from '../domain/request-context';
import type { EventLog } from '../infra/event-log.service';
import type { JobProducer } from '../infra/job-producer.service';
import { Metrics } from '../infra/metrics.service';
import type { RateLimiter } from '../infra/rate-limiter.service';
import type { CallRecordStore } from '../persistence/call-records.repository';
import type { ChatCompletionsRepository } from '../persistence/chat-completions.repository';
import type { IdempotencyRepository } from '../persistence/idempotency.repository';
import type { IdempotencyKeyRecord } from '../persistence/idempotency.schema';
import { type CallKind, ChatCalls } from './call-kinds';
import { CallAdmission } from './call-admission.service';

const caller = { userId: 'u1', keyId: 'key_1' } as Caller;
const ctx = (idempotencyKey?: string) => ({ idempotencyKey, reqBodyHash: 'h1' }) as RequestContext;

/** Admission against fakes: the producer's failure and the Idempotency-Key claims are what the test sets. */
function setup(enqueue: () => Promise<void>, earlier: string[] = []) {
  const store = new MemoryStore<ChatCompletionRecord>();
  const released: string[] = [];
  const claims = earlier.map((callId): IdempotencyKeyRecord => ({
    userId: 'u1',
    key: 'k',
    bodyHash: 'h1',
    callId,
    createdAt: new Date(),
  }));
  const chat = new ChatCalls(fake<ChatCompletionsRepository>({}));
  const kind: CallKind<ChatCompletionRecord> = {
    job: chat.job,
    noun: chat.noun,
    repo: fake<CallRecordStore<ChatCompletionRecord>>(store),
    notFound: (id) => chat.notFound(id),
    logsEvents: () => false,
    terminalEvent: (r) => chat.terminalEvent(r),
    webhookSubject: chat.webhookSubject,
    acceptedEvents: () => [],
  };
  const admission = new CallAdmission(
    fake<JobProducer>({ enqueue }),
    fake<EventLog>({ append: async () => 0 }),
    fake<RateLimiter>({
      admit: async () => ({ inFlight: 1, requests: { limit: 60, remaining: 59, resetMs: 60_000 } }),
      release: async (_k, id) => void released.push(id),
    }),
    fake<IdempotencyRepository>({
      claim: async () => claims.shift() ?? null,
      holds: async () => true,
      release: async () => undefined,
    }),
    new Metrics(testConfig()),
    silentLogger,
  );
  const accept = (id: string, idem?: string) =>
    admission.accept(
      kind,
      caller,
      id,
      ctx(idem),
      async () => {
        const r = chatRecord({ responseId: id });
        store.put(r);
        return r;
      },
      () => [],
    );
  return { store, released, accept };
}

describe('admission', () => {
  it('a failure to enqueue that is not an outage is not a 503 (clients would retry it), and nothing is left', async () => {
    const { store, released, accept } = setup(async () => {
      throw new Error('ERR Error running script: a bug');
    });
    const err = await accept('chatcmpl-a').catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(AppError);
    expect(store.records.size).toBe(0);
    expect(released).toEqual(['chatcmpl-a']);
  });

  it('Redis away while enqueueing is a 503, and the record is removed', async () => {
    const { store, accept } = setup(async () => {
      throw Object.assign(new Error('Connection is closed.'), { name: 'Error' });
    });
    const err = await accept('chatcmpl-b').catch((e: unknown) => e);
    expect((err as AppError).kind).toBe('unavailable');
    expect(store.records.size).toBe(0);
  });

  it('an Idempotency-Key retry that arrives before the first request wrote its record waits for it', async () => {
    const { store, accept } = setup(async () => undefined, ['chatcmpl-first']);
    setTimeout(() => store.put(chatRecord({ responseId: 'chatcmpl-first' })), 200);
    const got = await accept('chatcmpl-second', 'idem-1');
    expect(got).toMatchObject({ replayed: true, record: { responseId: 'chatcmpl-first' } });
    expect(store.records.has('chatcmpl-second')).toBe(false);
  });

  it('an Idempotency-Key whose call was kept no longer (a tombstone) is a 409, at once', async () => {
    const { store, accept } = setup(async () => undefined, ['chatcmpl-gone']);
    store.put(chatRecord({ responseId: 'chatcmpl-gone', deletedAt: new Date() }));
    const started = Date.now();
    const err = (await accept('chatcmpl-next', 'idem-2').catch((e: unknown) => e)) as AppError;
    expect([err.kind, err.details.code]).toEqual(['conflict', 'idempotency_key_used']);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
