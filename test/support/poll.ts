/**
 * Waits the e2e tests and the fault scenarios share: a call polled until it is terminal, and the mock upstream
 * watched until it saw a call in a given state. Each is bounded and names what it waits for.
 */
import type OpenAI from 'openai';
import type { MockCall, MockUpstream } from '../../tools/mock-upstream/mock-upstream';
import { sleep, waitFor } from './wait';

/** The statuses a response or a background chat completion does not leave. */
export const TERMINAL_STATUSES: readonly string[] = ['completed', 'failed', 'cancelled', 'incomplete'];
export const isTerminal = (status: string | null | undefined): boolean => TERMINAL_STATUSES.includes(status ?? '');

/** A chat completion as our background extension shows it: with a status, and an error once failed. */
export type BackgroundChat = OpenAI.ChatCompletion & { status?: string; error?: { code: string; message: string } };

export interface PollOptions {
  /** Default 15 s. */
  timeoutMs?: number;
  /** Default 100 ms. */
  everyMs?: number;
}

/** Retrieves a background response until it is terminal, and answers it; fails after the timeout. */
export function pollUntilTerminal(client: OpenAI, id: string, o?: PollOptions): Promise<OpenAI.Responses.Response>;
/** The same for a background chat completion (our extension). */
export function pollUntilTerminal(
  client: OpenAI,
  id: string,
  o: PollOptions & { kind: 'chat' },
): Promise<BackgroundChat>;
export function pollUntilTerminal(
  client: OpenAI,
  id: string,
  o: PollOptions & { kind?: 'response' | 'chat' } = {},
): Promise<OpenAI.Responses.Response | BackgroundChat> {
  const chat = o.kind === 'chat';
  return waitFor(
    `${chat ? 'chat' : 'response'} ${id} to finish`,
    async () => {
      const r = chat
        ? ((await client.chat.completions.retrieve(id)) as BackgroundChat)
        : await client.responses.retrieve(id);
      return isTerminal(r.status) ? r : undefined;
    },
    o.timeoutMs ?? 15_000,
    o.everyMs ?? 100,
  );
}

/**
 * The status of many background responses, polled every `everyMs` until all are terminal or `timeoutMs` passed.
 * It does not fail: an id missing from the answer, or not terminal in it, was not seen to finish (the fault
 * scenarios count those as lost). Reads that fail are tried again in the next round.
 */
export async function terminalStatuses(
  client: OpenAI,
  ids: string[],
  timeoutMs: number,
  everyMs = 1000,
): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const id of ids) {
      if (isTerminal(statuses.get(id))) continue;
      const r = await client.responses.retrieve(id).catch(() => null);
      if (r?.status) statuses.set(id, r.status);
    }
    if (ids.every((id) => isTerminal(statuses.get(id)))) break;
    await sleep(everyMs);
  }
  return statuses;
}

/** Waits until the first upstream call the mock saw for `key` is in state `outcome`, and answers that call. */
export function waitForMockCall(
  mock: MockUpstream,
  key: string,
  outcome: MockCall['outcome'],
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<MockCall> {
  return waitFor(
    `the mock's call for ${key} to be ${outcome}`,
    () => {
      const call = mock.calls().find((c) => c.key === key);
      return call?.outcome === outcome ? call : undefined;
    },
    timeoutMs,
    everyMs,
  );
}

/** Waits until at least `count` of the mock's calls (whatever their key) are in state `outcome` at once. */
export async function waitForMockCalls(
  mock: MockUpstream,
  outcome: MockCall['outcome'],
  count: number,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<void> {
  await waitFor(
    `${count} of the mock's calls to be ${outcome}`,
    () => (mock.calls().filter((c) => c.outcome === outcome).length >= count ? true : undefined),
    timeoutMs,
    everyMs,
  );
}
