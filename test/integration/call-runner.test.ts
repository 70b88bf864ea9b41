/**
 * The worker's runner (for the response kind) in-process against the real MongoDB wire server and Redis, with the MOCK
 * upstream: idempotency, single result writes, and cancel through the durable flag alone.
 */
import { type DynamicModule, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ResponseCalls } from '../../src/application/call-kinds';
import { loadConfig } from '../../src/config/app-config';
import { newCallRecord, type ResponseRecord } from '../../src/domain/call';
import { InfraModule } from '../../src/infra/infra.module';
import { createLogger } from '../../src/infra/logger';
import { WebhookEventsModule } from '../../src/modules/webhook-events.module';
import { CallKindsModule } from '../../src/modules/call-kinds.module';
import { PersistenceModule } from '../../src/persistence/persistence.module';
import { ResponsesRepository } from '../../src/persistence/responses.repository';
import { CallFinisher } from '../../src/worker/call-finisher.service';
import { TurnHistory } from '../../src/worker/turn-history.service';
import { CallRunner, type RunContext } from '../../src/worker/call-runner.service';
import { ResponseProtocol } from '../../src/worker/protocols/response-protocol';
import { UpstreamClients } from '../../src/worker/upstream.client';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { mongoUriFor, testServices, uniqueName } from '../support/env';
import { waitForMockCall } from '../support/poll';

@Module({})
class RunnerHarness {
  static forRoot(env: Record<string, string>): DynamicModule {
    const config = loadConfig(env, 'worker');
    return {
      module: RunnerHarness,
      imports: [
        InfraModule.forRoot(config, createLogger('error', 'test')),
        PersistenceModule.forRoot(config),
        CallKindsModule,
        WebhookEventsModule,
      ],
      providers: [UpstreamClients, TurnHistory, ResponseProtocol, CallFinisher, CallRunner],
    };
  }
}

let mock: MockUpstream;
let app: INestApplicationContext;
let slowPollApp: INestApplicationContext;

beforeAll(async () => {
  mock = await startMockUpstream();
  const { redisUrl, mongoUri } = testServices();
  const env = {
    REDIS_URL: redisUrl,
    MONGODB_URI: mongoUriFor(mongoUri, uniqueName('it_')),
    UPSTREAM_BASE_URL: mock.url,
    QUEUE_PREFIX: uniqueName('it'),
    CANCEL_POLL_MS: '200',
  };
  app = await NestFactory.createApplicationContext(RunnerHarness.forRoot(env), { logger: false });
  slowPollApp = await NestFactory.createApplicationContext(
    RunnerHarness.forRoot({ ...env, CANCEL_POLL_MS: '600000' }),
    { logger: false },
  );
}, 60_000);

afterAll(async () => {
  await app?.close();
  await slowPollApp?.close();
  await mock?.close();
});

const ctx = (over: Partial<RunContext> = {}): RunContext => ({
  attempt: 1,
  maxAttempts: 3,
  signal: new AbortController().signal,
  upstream: app.get(UpstreamClients).for('default'),
  pauseRoute: async () => undefined,
  moveTo: async () => undefined,
  ...over,
});

async function insertQueued(repo: ResponsesRepository, metadata: Record<string, string>): Promise<ResponseRecord> {
  const responseId = uniqueName('resp_it');
  return repo.insert({
    ...newCallRecord({
      userId: 'u-it',
      keyId: 'key_it',
      responseId,
      requestId: 'req_it',
      reqBodyHash: 'h',
      userAgent: null,
      reqIp: null,
      request: { model: 'gpt-it', input: 'hello', metadata, background: true },
      model: 'gpt-it',
      metadata,
      background: true,
      store: true,
    }),
    inputItems: [],
    output: [],
    usage: null,
    incompleteDetails: null,
    previousResponseId: null,
    chain: [],
    conversationId: null,
    conversationAppendedAt: null,
  });
}

const job = (r: ResponseRecord) => ({ responseId: r.responseId, userId: r.userId, requestId: 'req_it' });
const callsFor = (key: string) => mock.calls().filter((c) => c.key === key);

describe('CallRunner', () => {
  it('does nothing the second time a job runs', async () => {
    const repo = app.get(ResponsesRepository);
    const runner = app.get(CallRunner);
    const kind = app.get(ResponseCalls);
    const protocol = app.get(ResponseProtocol);
    const key = uniqueName('twice-');
    const r = await insertQueued(repo, { mock_key: key });
    expect(await runner.run(kind, protocol, job(r), ctx())).toBe('completed');
    const first = await repo.find({ userId: r.userId, responseId: r.responseId });
    expect(await runner.run(kind, protocol, job(r), ctx())).toBe('already-terminal');
    const second = await repo.find({ userId: r.userId, responseId: r.responseId });
    expect(second).toEqual(first);
    expect(callsFor(key)).toHaveLength(1);
    expect(first).toMatchObject({
      status: 'completed',
      upstreamCalls: 1,
      commonData: { usage: { input_text: 1, output_text: 8 } },
    });
    // The upstream got the stored request minus our own fields.
    expect(first!.commonData.responseRawData).toMatchObject({ object: 'response', status: 'completed' });
  });

  it('writes one result when two copies of a job run at the same time', async () => {
    const repo = app.get(ResponsesRepository);
    const runner = app.get(CallRunner);
    const kind = app.get(ResponseCalls);
    const protocol = app.get(ResponseProtocol);
    const key = uniqueName('dup-');
    const r = await insertQueued(repo, { mock_key: key, mock_latency_ms: '200' });
    const outcomes = await Promise.all([
      runner.run(kind, protocol, job(r), ctx()),
      runner.run(kind, protocol, job(r), ctx()),
    ]);
    expect(outcomes.filter((o) => o === 'completed')).toHaveLength(1);
    const final = await repo.find({ userId: r.userId, responseId: r.responseId });
    expect(final?.status).toBe('completed');
  });

  it('aborts the upstream call through the durable flag when no cancel message arrives', async () => {
    const repo = app.get(ResponsesRepository);
    const runner = app.get(CallRunner);
    const kind = app.get(ResponseCalls);
    const protocol = app.get(ResponseProtocol);
    const key = uniqueName('flag-');
    const r = await insertQueued(repo, { mock_key: key, mock_latency_ms: '30000' });
    const running = runner.run(kind, protocol, job(r), ctx());
    await waitForMockCall(mock, key, 'running');
    // Only the durable flag: no bus message, as if pub/sub lost it.
    await repo.transition({ userId: r.userId, responseId: r.responseId }, ['in_progress'], {
      status: 'cancelled',
      cancelledAt: new Date(),
    });
    const started = Date.now();
    expect(await running).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(3000);
    await waitForMockCall(mock, key, 'aborted', 3000);
  });

  it('aborts at once when the job signal fires (worker.cancelJob)', async () => {
    const repo = app.get(ResponsesRepository);
    const runner = app.get(CallRunner);
    const kind = app.get(ResponseCalls);
    const protocol = app.get(ResponseProtocol);
    const key = uniqueName('signal-');
    const r = await insertQueued(repo, { mock_key: key, mock_latency_ms: '30000' });
    const controller = new AbortController();
    const running = runner.run(kind, protocol, job(r), ctx({ signal: controller.signal }));
    await waitForMockCall(mock, key, 'running');
    controller.abort();
    expect(await running).toBe('cancelled');
    await waitForMockCall(mock, key, 'aborted', 3000);
  });

  it('drops a result that arrives after a cancel', async () => {
    const repo = slowPollApp.get(ResponsesRepository);
    const runner = slowPollApp.get(CallRunner);
    const kind = slowPollApp.get(ResponseCalls);
    const protocol = slowPollApp.get(ResponseProtocol);
    const key = uniqueName('late-');
    const r = await insertQueued(repo, { mock_key: key, mock_latency_ms: '400' });
    const running = runner.run(kind, protocol, job(r), ctx());
    await waitForMockCall(mock, key, 'running');
    await repo.transition({ userId: r.userId, responseId: r.responseId }, ['in_progress'], {
      status: 'cancelled',
      cancelledAt: new Date(),
    });
    expect(await running).toBe('dropped');
    expect(callsFor(key)[0].outcome).toBe('ok'); // the upstream did answer, late
    const final = await repo.find({ userId: r.userId, responseId: r.responseId });
    expect(final).toMatchObject({ status: 'cancelled', output: [], usage: null, completedAt: null });
  });

  it('skips a job whose response was cancelled while it waited', async () => {
    const repo = app.get(ResponsesRepository);
    const runner = app.get(CallRunner);
    const kind = app.get(ResponseCalls);
    const protocol = app.get(ResponseProtocol);
    const key = uniqueName('skip-');
    const r = await insertQueued(repo, { mock_key: key });
    await repo.transition({ userId: r.userId, responseId: r.responseId }, ['queued'], { status: 'cancelled' });
    expect(await runner.run(kind, protocol, job(r), ctx())).toBe('already-terminal');
    expect(callsFor(key)).toHaveLength(0);
  });

  it('asks the queue to retry a transient failure and records the last one once', async () => {
    const repo = app.get(ResponsesRepository);
    const runner = app.get(CallRunner);
    const kind = app.get(ResponseCalls);
    const protocol = app.get(ResponseProtocol);
    const key = uniqueName('retry-');
    const r = await insertQueued(repo, { mock_key: key, mock_fail: '502' });
    await expect(runner.run(kind, protocol, job(r), ctx({ attempt: 1 }))).rejects.toMatchObject({
      name: 'RetryableJobError',
    });
    expect((await repo.find({ userId: r.userId, responseId: r.responseId }))?.status).toBe('in_progress');
    expect(await runner.run(kind, protocol, job(r), ctx({ attempt: 3 }))).toBe('failed');
    const final = await repo.find({ userId: r.userId, responseId: r.responseId });
    expect(final).toMatchObject({
      status: 'failed',
      error: { code: 'server_error' },
      errorStatus: 502,
      upstreamCalls: 2,
    });
  });
});

describe('ResponsesRepository', () => {
  it('lets exactly one of many concurrent conditional transitions win', async () => {
    // The state machine relies on single-document atomicity (as MongoDB guarantees it).
    const repo = app.get(ResponsesRepository);
    const r = await insertQueued(repo, {});
    const key = { userId: r.userId, responseId: r.responseId };
    const wins = await Promise.all(
      Array.from({ length: 20 }, () => repo.transition(key, ['queued'], { status: 'cancelled' })),
    );
    expect(wins.filter((w) => w !== null)).toHaveLength(1);
  });

  it('cannot read without an owner', async () => {
    const repo = app.get(ResponsesRepository);
    await expect(repo.find({ userId: '', responseId: 'resp_x' })).rejects.toThrow(/userId is required/);
  });

  it("scopes reads by owner: another user's id finds nothing", async () => {
    const repo = app.get(ResponsesRepository);
    const r = await insertQueued(repo, {});
    expect(await repo.find({ userId: 'someone-else', responseId: r.responseId })).toBeNull();
    expect(
      await repo.transition({ userId: 'someone-else', responseId: r.responseId }, ['queued'], { status: 'cancelled' }),
    ).toBeNull();
    expect(await repo.delete({ userId: 'someone-else', responseId: r.responseId })).toBe(false);
    expect((await repo.find({ userId: r.userId, responseId: r.responseId }))?.status).toBe('queued');
  });
});
