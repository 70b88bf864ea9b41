import { randomBytes } from 'node:crypto';

/** The services globalSetup provisioned; every test file gets its own database and queue prefix. */
export function testServices(): { redisUrl: string; mongoUri: string } {
  const redisUrl = process.env.TEST_REDIS_URL;
  const mongoUri = process.env.TEST_MONGODB_URI;
  if (!redisUrl || !mongoUri)
    throw new Error(
      'TEST_REDIS_URL / TEST_MONGODB_URI missing: run the tests through jest (globalSetup provisions them)',
    );
  return { redisUrl, mongoUri };
}

export const uniqueName = (prefix: string): string => `${prefix}${randomBytes(5).toString('hex')}`;

/** The MongoDB URI with a database of its own. */
export function mongoUriFor(base: string, db: string): string {
  const u = new URL(base);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
