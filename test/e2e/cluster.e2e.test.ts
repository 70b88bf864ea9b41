/**
 * Redis Cluster: a stack on a real three-master cluster (the run's, with TEST_REDIS=cluster, else one of its own) keeps
 * each queue's keys in one slot under the hash-tagged prefix, spreads the per-call and per-key keys over the masters
 * under their usual names, and serves calls, streams, cancels, limits and the model catalog across them. The
 * responses, streaming and limits suites run whole on a cluster in the second pass of `npm test` (scripts/test.sh).
 */
import { Cluster } from 'ioredis';
import type OpenAI from 'openai';
import { type MockUpstream, startMockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { uniqueName, waitFor } from '../support/env';
import { pollUntilTerminal, waitForMockCall } from '../support/poll';
import { type ClusterProc, clusterProc } from '../support/processes';
import { KEYS, redisOf, type Stack, startStack, testClusterNodes } from '../support/stack';

const UPSTREAM_KEY = 'sk-cluster-upstream-0007';
const OTHER_KEY = 'sk-cluster-other-0008';

let own: ClusterProc | undefined;
let mock: MockUpstream;
let other: MockUpstream;
let stack: Stack;
let redis: Cluster;
let alice: OpenAI;

beforeAll(async () => {
  const nodes = testClusterNodes() ?? (own = await clusterProc()).nodes;
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY, models: ['gpt-test', 'gpt-other'] });
  other = await startMockUpstream({ apiKey: OTHER_KEY, chatOnly: true, models: ['llama-3-8b'] });
  const upstreams = [
    { name: 'local', base_url: `${other.url}/v1`, protocol: 'chat', models: ['llama-*'], api_key_env: 'OTHER_KEY' },
    { name: 'cloud', base_url: mock.url, models: ['gpt-*'], api_key_env: 'CLOUD_KEY' },
  ];
  stack = await startStack({
    upstreamUrl: '',
    redisClusterNodes: nodes,
    apis: 2,
    env: {
      UPSTREAMS: JSON.stringify(upstreams),
      OTHER_KEY,
      CLOUD_KEY: UPSTREAM_KEY,
      UPSTREAM_API_KEY: '',
      MODELS_REFRESH_MS: '1000',
      CANCEL_POLL_MS: '30000',
    },
  });
  const r = redisOf(stack.env);
  if (!(r instanceof Cluster)) throw new Error('the cluster stack must connect to a cluster');
  redis = r;
  alice = stack.client(KEYS.alice);
}, 90_000);

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
  await mock?.close();
  await other?.close();
  await own?.stop();
});

/** The keys each master holds that match a pattern, by master. */
async function keysByMaster(pattern: string): Promise<string[][]> {
  return Promise.all(redis.nodes('master').map((node) => node.keys(pattern)));
}

describe('on a three-master Redis Cluster', () => {
  it('runs background calls, with each queue in one slot and the event logs spread over the masters', async () => {
    expect(stack.env.REDIS_CLUSTER_NODES).toBeDefined();
    expect(stack.env.REDIS_URL).toBeUndefined();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      // Streamed background calls keep an event log; a chat-only route's calls run on their own queue.
      const stream = await alice.responses.create({
        model: i % 3 === 0 ? 'llama-3' : 'gpt-test',
        input: `spread ${i}`,
        background: true,
        stream: true,
      });
      for await (const e of stream) {
        if (e.type === 'response.created') ids.push(e.response.id);
      }
    }
    const done = await Promise.all(ids.map((id) => pollUntilTerminal(alice, id)));
    expect(done.map((r) => r.status)).toEqual(ids.map(() => 'completed'));

    // The event logs keep their usual names (no hash tag: one key per script) and land on different masters.
    const logs = await keysByMaster(`${stack.prefix}:events:*`);
    expect(logs.flat().sort()).toEqual(ids.map((id) => `${stack.prefix}:events:${id}`).sort());
    expect(logs.filter((k) => k.length > 0).length).toBeGreaterThanOrEqual(2);

    // BullMQ's keys are all under the hash-tagged prefix, each queue (here every queue) on one master.
    const queueKeys = await keysByMaster(`{${stack.prefix}}:*`);
    expect(queueKeys.filter((k) => k.length > 0)).toHaveLength(1);
    const names = queueKeys.flat();
    expect(names.some((k) => k.startsWith(`{${stack.prefix}}:calls-cloud:`))).toBe(true);
    expect(names.some((k) => k.startsWith(`{${stack.prefix}}:calls-local:`))).toBe(true);
    expect((await keysByMaster(`${stack.prefix}:calls-*`)).flat()).toEqual([]);
    // The per-key limit keys carry the key id as their hash tag.
    expect((await keysByMaster(`${stack.prefix}:rl:{*}:rpm`)).flat().length).toBeGreaterThan(0);
  });

  it('cancels a running call over the bus, whichever master its job and its log are on', async () => {
    const key = uniqueName('cancel-');
    const r = await alice.responses.create({
      model: 'gpt-test',
      input: 'cancel me',
      background: true,
      metadata: { mock_key: key, mock_latency_ms: '30000' },
    });
    await waitForMockCall(mock, key, 'running');
    const started = Date.now();
    const cancelled = await stack.client(KEYS.alice, 1).responses.cancel(r.id);
    expect(cancelled.status).toBe('cancelled');
    // The upstream call is aborted by the bus message, well before the durable flag's poll (30 s) would notice.
    await waitForMockCall(mock, key, 'aborted', 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await alice.responses.retrieve(r.id)).status).toBe('cancelled');
  });

  it('answers synchronous calls, streams and resumes from another replica, and lists models per route', async () => {
    const chat = await alice.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'sync on a cluster' }],
    });
    expect(chat.choices[0].message.content).toBeTruthy();
    const stream = await alice.responses.create({
      model: 'llama-3',
      input: 'resume on a cluster',
      background: true,
      stream: true,
    });
    let id = '';
    let cut = -1;
    for await (const e of stream) {
      if (e.type === 'response.created') id = e.response.id;
      if (e.sequence_number === 3) {
        cut = e.sequence_number;
        break;
      }
    }
    const rest = stack.client(KEYS.alice, 1).responses.stream({ response_id: id, starting_after: cut });
    const seqs: number[] = [];
    for await (const e of rest) seqs.push(e.sequence_number);
    expect(seqs[0]).toBe(cut + 1);
    expect(seqs).toEqual(seqs.map((_, i) => cut + 1 + i));
    expect((await pollUntilTerminal(alice, id)).status).toBe('completed');

    // Each route's cached list is its own key, in its own slot: read one by one, not with one MGET.
    const models = await waitFor(
      'the workers to cache both routes model lists',
      async () => {
        const list: string[] = [];
        for await (const m of alice.models.list()) list.push(m.id);
        return list.includes('llama-3-8b') && list.includes('gpt-other') ? list : undefined;
      },
      15_000,
      200,
    );
    expect(models).toEqual(['llama-3-8b', 'gpt-test', 'gpt-other']);
  });
});
