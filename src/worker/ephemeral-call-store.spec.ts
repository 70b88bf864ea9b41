import { chatRecord, fake } from '../../test/support/fakes';
import { tombstoneOf } from '../domain/ephemeral';
import type { CallRecord } from '../domain/call';
import type { EphemeralCalls } from '../infra/ephemeral-calls.service';
import type { CallRecordStore } from '../persistence/call-records.repository';
import { EphemeralCallStore } from './ephemeral-call-store';

const SECRET = 'the content nobody may keep';
const KEY = { userId: 'u1', responseId: 'chatcmpl-1' };

function setup(record: CallRecord = chatRecord(), rerun = false) {
  const steps: string[] = [];
  const finished: { jobKey: string; jobData: Record<string, unknown>; result: Record<string, unknown> }[] = [];
  const tombstones: CallRecord[] = [];
  const repo = fake<CallRecordStore<CallRecord>>({
    contentless: (r) => tombstoneOf(r, {}),
    putTombstone: async (r) => {
      steps.push('tombstone');
      tombstones.push(r);
    },
  });
  const redis = fake<EphemeralCalls>({
    finish: async (_id, jobKey, jobData, result) => {
      steps.push('finish');
      finished.push({ jobKey, jobData: jobData as never, result: result as never });
    },
  });
  const job = {
    key: 'bq:calls-default:chatcmpl-1',
    dataWith: (call: CallRecord) => ({ responseId: KEY.responseId, call }),
    forgot: () => void steps.push('forgot'),
    release: async () => void steps.push('release'),
  };
  const store = new EphemeralCallStore(record, rerun, redis, repo, job);
  return { store, steps, finished, tombstones };
}

const withSecret = () =>
  chatRecord({
    commonData: { ...chatRecord().commonData, requestRawData: { messages: [{ role: 'user', content: SECRET }] } },
  });

describe('EphemeralCallStore', () => {
  it('ends the call in one step: the job forgets the content as the api gets the answer', async () => {
    const { store, steps, finished } = setup(withSecret());
    await store.claim();
    await store.transition(KEY, ['in_progress'], { status: 'completed' });
    // The slot is released first: a client sending its next call on the answer finds it free.
    expect(steps).toEqual(['release', 'finish', 'forgot']);
    expect(finished[0].jobKey).toBe('bq:calls-default:chatcmpl-1');
    const kept = finished[0].jobData.call as CallRecord;
    expect(JSON.stringify(kept)).not.toContain(SECRET);
    expect(kept.status).toBe('completed');
    expect(finished[0].result.status).toBe('completed');
    await store.flush('completed');
    expect(steps).toEqual(['release', 'finish', 'forgot', 'tombstone']);
  });

  it('forgets nothing on a step that does not end the call', async () => {
    const { store, steps } = setup(withSecret());
    await store.claim();
    await store.transition(KEY, ['in_progress'], { upstreamCalls: 2 });
    expect(steps).toEqual([]);
  });

  it('a job run again whose data holds the finished record was answered: its tombstone, with usage, nothing more', async () => {
    const usage = { input_text: 3, output_text: 5 };
    const done = chatRecord({ status: 'completed', commonData: { ...chatRecord().commonData, usage } as never });
    const { store, steps, tombstones } = setup(tombstoneOf(done, {}), true);
    expect(store.answered).toBe(true);
    await store.replayAnswered();
    expect(steps).toEqual(['release', 'tombstone']);
    expect(tombstones[0].commonData.usage).toEqual(usage);
    expect(tombstones[0].status).toBe('completed');
  });

  it('a job run again that still holds the content was never answered', () => {
    const { store } = setup(withSecret(), true);
    expect(store.answered).toBe(false);
  });
});
