import { randomBytes } from 'node:crypto';

// Kept here for the tests that import them from this module; each lives in one place.
export { mongoUriFor } from '../../tools/dev/services';
export { sleep, waitFor } from './wait';

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
