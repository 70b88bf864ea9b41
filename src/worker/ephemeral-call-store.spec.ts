import { chatRecord, fake } from '../../test/support/fakes';
import { tombstoneOf } from '../domain/ephemeral';
import type { ChatCompletionRecord } from '../domain/call';
import type { EphemeralCalls } from '../infra/ephemeral-calls.service';
import type { CallRecordStore } from '../persistence/call-records.repository';
import { EphemeralCallStore } from './ephemeral-call-store';

const SECRET = 'the content nobody may keep';

function setup(record = chatRecord(), rerun = false) {
  const steps: string[] = [];
  const results: { id: string; result: Record<string, unknown> }[] = [];
  const forgotten: ChatCompletionRecord[] = [];
  const tombstones: ChatCompletionRecord[] = [];
  const repo = fake<CallRecordStore<ChatCompletionRecord>>({
    contentless: (r) => tombstoneOf(r, {}),
    putTombstone: async (r) => {
      steps.push('tombstone');
      tombstones.push(r);
    },
  });
  const redis = fake<EphemeralCalls>({
    putResult: async (id, result) => {
      steps.push('result');
      results.push({ id, result: result as Record<string, unknown> });
    },
  });
  const store = new EphemeralCallStore(record, rerun, redis, repo, async (c) => {
    steps.push('forget');
    forgotten.push(c);
  });
  return { store, steps, results, forgotten, tombstones };
}

const withSecret = () =>
  chatRecord({
    commonData: { ...chatRecord().commonData, requestRawData: { messages: [{ role: 'user', content: SECRET }] } },
  });

describe('EphemeralCallStore', () => {
  it('lets the job forget the content before the answer is handed over', async () => {
    const { store, steps, forgotten } = setup(withSecret());
    await store.claim();
    await store.transition({ userId: 'u1', responseId: 'chatcmpl-1' }, ['in_progress'], { status: 'completed' });
    expect(steps).toEqual(['forget', 'result']);
    expect(forgotten).toHaveLength(1);
    expect(JSON.stringify(forgotten[0])).not.toContain(SECRET);
    expect(forgotten[0].status).toBe('completed');
    await store.flush('completed');
    expect(steps).toEqual(['forget', 'result', 'tombstone']);
  });

  it('forgets nothing on a step that does not end the call', async () => {
    const { store, steps } = setup(withSecret());
    await store.claim();
    await store.transition({ userId: 'u1', responseId: 'chatcmpl-1' }, ['in_progress'], { upstreamCalls: 2 });
    expect(steps).toEqual([]);
    expect(store.forgotten).toBe(false);
  });

  it('a job run again with its content gone ends failed for the api, its usage kept, without running', async () => {
    const usage = { input_text: 3, output_text: 5 };
    const done = chatRecord({
      status: 'completed',
      commonData: { ...chatRecord().commonData, usage } as never,
    });
    const { store, steps, results, tombstones } = setup(tombstoneOf(done, {}), true);
    expect(store.forgotten).toBe(true);
    await store.abandon('The chat completion could not be completed.');
    expect(steps).toEqual(['result', 'tombstone']);
    expect(results[0].result.status).toBe('failed');
    expect(results[0].result.error).toEqual({
      code: 'server_error',
      message: 'The chat completion could not be completed.',
    });
    expect(tombstones[0].commonData.usage).toEqual(usage);
  });
});
