import { chatRecord, fake, silentLogger, testConfig } from '../../test/support/fakes';
import type { ChatCalls, ResponseCalls } from '../application/call-kinds';
import type { ChatCompletionRecord } from '../domain/call';
import { JobName } from '../infra/jobs';
import type { JobProducer } from '../infra/job-producer.service';
import type { ChatCompletionsRepository } from '../persistence/chat-completions.repository';
import type { ResponsesRepository } from '../persistence/responses.repository';
import type { EventLog } from '../infra/event-log.service';
import { RecoverySweep } from './recovery-sweep.service';
import type { WebhookDispatcher } from '../application/webhook-dispatcher.service';
import type { TurnHistory } from './turn-history.service';

/** The sweep's decisions: which unfinished calls get a job again, on which route, and which are left alone. */
function setup(
  stale: ChatCompletionRecord[],
  liveJobs: string[],
  failAt: string | null = null,
  owed: ChatCompletionRecord[] = [],
) {
  const actions: string[] = [];
  const overdueChecks: Date[] = [];
  const producer = fake<JobProducer>({
    hasLiveJob: async (id: string) => {
      if (id === failAt) throw new Error('Connection is closed.');
      return liveJobs.includes(id);
    },
    removeJob: async (id: string, route?: string) => void actions.push(`remove ${id} ${route}`),
    enqueue: async (name: JobName, id: string, _payload: unknown, route?: string) =>
      void actions.push(`enqueue ${name} ${id} ${route}`),
  });
  const none = fake<ResponseCalls>({
    job: JobName.RunResponse,
    noun: 'response',
    repo: fake<ResponsesRepository>({
      findStaleActive: async () => [],
      findExpiredEphemeral: async () => [],
      findUnappendedTurns: async () => [],
      findOwedWebhooks: async () => [],
    }),
  });
  const chat = fake<ChatCalls>({
    job: JobName.RunChatCompletion,
    noun: 'chat completion',
    repo: fake<ChatCompletionsRepository>({
      findStaleActive: async () => stale,
      findExpiredEphemeral: async () => [],
      findOwedWebhooks: async () => owed,
    }),
  });
  const sweep = new RecoverySweep(
    testConfig(),
    silentLogger,
    producer,
    none,
    chat,
    fake<EventLog>({}),
    fake<TurnHistory>({}),
    fake<WebhookDispatcher>({
      dispatchOrThrow: async (_kind: unknown, r: ChatCompletionRecord) => (actions.push(`webhook ${r.responseId}`), 1),
      requeueOverdue: async () => (overdueChecks.push(new Date()), 0),
    }),
  );
  return { actions, sweep, overdueChecks };
}

describe('RecoverySweep', () => {
  it('enqueues again, under the same id and route, each unfinished call that has no live job', async () => {
    const lost = chatRecord({ responseId: 'chatcmpl-lost', status: 'queued', route: 'fast' });
    const running = chatRecord({ responseId: 'chatcmpl-running', status: 'in_progress' });
    const t = setup([lost, running], ['chatcmpl-running']);
    expect(await t.sweep.sweep()).toBe(1);
    expect(t.actions).toEqual(['remove chatcmpl-lost fast', 'enqueue run-chat-completion chatcmpl-lost fast']);
  });

  it('stops the pass on a Redis error and tries again next time (nothing enqueued twice)', async () => {
    const a = chatRecord({ responseId: 'chatcmpl-a', status: 'queued' });
    const b = chatRecord({ responseId: 'chatcmpl-b', status: 'queued' });
    const t = setup([a, b], [], 'chatcmpl-b');
    expect(await t.sweep.sweep()).toBe(1);
    expect(t.actions).toEqual(['remove chatcmpl-a default', 'enqueue run-chat-completion chatcmpl-a default']);
  });

  it('dispatches the webhook events finished calls still owe, then re-enqueues overdue deliveries', async () => {
    const owed = chatRecord({ responseId: 'chatcmpl-w', status: 'completed', background: true, webhookPending: true });
    const t = setup([], [], null, [owed]);
    await t.sweep.sweep();
    expect(t.actions).toEqual(['webhook chatcmpl-w']);
    expect(t.overdueChecks).toHaveLength(1);
  });

  it('a failing call recovery does not stop the webhook recovery', async () => {
    const a = chatRecord({ responseId: 'chatcmpl-a', status: 'queued' });
    const t = setup([a], [], 'chatcmpl-a');
    await t.sweep.sweep();
    expect(t.actions).toEqual([]);
    expect(t.overdueChecks).toHaveLength(1);
  });
});
