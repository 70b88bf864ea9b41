import { fake, silentLogger, testConfig } from '../../test/support/fakes';
import type { RedisBus } from '../infra/redis-bus.service';
import type { WebhookEndpointsRepository } from '../persistence/webhooks.repository';
import { WebhookDirectory } from './webhook-directory.service';

function setup(env: Record<string, string> = {}) {
  let users = new Set<string>(['bob']);
  let failing = false;
  let reads = 0;
  let notice: (() => void) | null = null;
  let reconnect: (() => void) | null = null;
  const repo = fake<WebhookEndpointsRepository>({
    usersWithEnabled: async () => {
      reads++;
      if (failing) throw new Error('MongoDB away');
      return new Set(users);
    },
  });
  const bus = fake<RedisBus>({
    subscribe: async (_: string, handler: (m: string) => void) => ((notice = () => handler('1')), () => undefined),
    onReconnect: (h: () => void) => ((reconnect = h), () => undefined),
  });
  const config = testConfig({ WEBHOOK_DIRECTORY_REFRESH_MS: '1000', ...env });
  const directory = new WebhookDirectory(repo, bus, config, silentLogger);
  return {
    directory,
    setUsers: (u: string[]) => (users = new Set(u)),
    fail: (f: boolean) => (failing = f),
    reads: () => reads,
    notice: () => notice!(),
    reconnect: () => reconnect!(),
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('WebhookDirectory', () => {
  afterEach(() => jest.useRealTimers());

  it('owes events for everyone until it has read the endpoints, then only for users with one', async () => {
    const t = setup();
    expect(t.directory.mayWant('alice')).toBe(true);
    await t.directory.onApplicationBootstrap();
    expect(t.directory.mayWant('alice')).toBe(false);
    expect(t.directory.mayWant('bob')).toBe(true);
    t.directory.onModuleDestroy();
  });

  it('an endpoint change heard on the bus: unsure at once, then the new read', async () => {
    const t = setup();
    await t.directory.onApplicationBootstrap();
    t.setUsers(['bob', 'alice']);
    t.notice();
    // Before the read is in, alice's calls already owe events.
    expect(t.directory.mayWant('alice')).toBe(true);
    await settle();
    expect(t.directory.mayWant('alice')).toBe(true);
    t.setUsers(['alice']);
    t.notice();
    await settle();
    expect(t.directory.mayWant('bob')).toBe(false);
    t.directory.onModuleDestroy();
  });

  it('after a bus reconnect (notices may be lost) it reads again', async () => {
    const t = setup();
    await t.directory.onApplicationBootstrap();
    const before = t.reads();
    t.setUsers(['alice']);
    t.reconnect();
    expect(t.directory.mayWant('alice')).toBe(true);
    await settle();
    expect(t.reads()).toBe(before + 1);
    expect(t.directory.mayWant('alice')).toBe(true);
    expect(t.directory.mayWant('bob')).toBe(false);
    t.directory.onModuleDestroy();
  });

  it('reads that keep failing make it unsure after two refresh periods', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const t = setup();
    await t.directory.onApplicationBootstrap();
    expect(t.directory.mayWant('alice')).toBe(false);
    t.fail(true);
    jest.advanceTimersByTime(1000);
    await settle();
    expect(t.directory.mayWant('alice')).toBe(false);
    jest.advanceTimersByTime(1500);
    await settle();
    expect(t.directory.mayWant('alice')).toBe(true);
    t.fail(false);
    jest.advanceTimersByTime(1000);
    await settle();
    expect(t.directory.mayWant('alice')).toBe(false);
    t.directory.onModuleDestroy();
  });

  it('with WEBHOOK_URL every call owes its event, and nothing is read', async () => {
    const t = setup({
      WEBHOOK_URL: 'http://127.0.0.1:9/hook',
      WEBHOOK_SECRET: 'whsec_dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg==',
    });
    await t.directory.onApplicationBootstrap();
    expect(t.directory.mayWant('alice')).toBe(true);
    expect(t.reads()).toBe(0);
  });
});
