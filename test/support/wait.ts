import type { ChildProcess } from 'node:child_process';

/**
 * The one bounded wait of the tests, the fault scenarios and the bench. Every wait names what it waits for and has a
 * deadline; a check still running at the deadline gets a short grace and then counts as a timeout, so a hung request
 * inside a check cannot hold a wait open either. No jest here: the bench compiles this file too.
 */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How long a check that is still running at the deadline may go on before the wait gives up. */
const CHECK_GRACE_MS = 5000;

/**
 * Polls `check` every `everyMs` until it returns a value (not undefined) and returns it; a check that throws counts as
 * "not yet" (its last error is quoted). Fails after `timeoutMs` with a message that says what it waited for.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  const fail = (detail: string) =>
    new Error(
      `timed out after ${timeoutMs} ms waiting for ${what}${detail}${last ? ` (last error: ${String(last)})` : ''}`,
    );
  for (;;) {
    let v: T | undefined | typeof STILL_RUNNING;
    try {
      v = await withinDeadline(check, deadline + CHECK_GRACE_MS);
    } catch (err) {
      last = err;
      v = undefined;
    }
    if (v === STILL_RUNNING) throw fail(' (a check was still running)');
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw fail('');
    await sleep(everyMs);
  }
}

const STILL_RUNNING = Symbol('still running');

/** Runs one check; resolves STILL_RUNNING if it has not settled by `until`. */
async function withinDeadline<T>(
  check: () => Promise<T | undefined> | T | undefined,
  until: number,
): Promise<T | undefined | typeof STILL_RUNNING> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof STILL_RUNNING>((resolve) => {
    timer = setTimeout(() => resolve(STILL_RUNNING), Math.max(0, until - Date.now()));
  });
  try {
    return await Promise.race([Promise.resolve().then(check), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The ms from now until `child` exits (0 if it already has), or Infinity when it has not exited within `timeoutMs`.
 * Call it before signalling the child, so that the exit cannot be missed.
 */
export function msUntilExit(child: ChildProcess, timeoutMs: number): Promise<number> {
  const from = Date.now();
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(0);
    const timer = setTimeout(() => resolve(Infinity), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(Date.now() - from);
    });
  });
}
