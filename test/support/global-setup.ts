import { provisionServices } from '../../tools/dev/services';

/** Starts (or finds) Redis and a MongoDB wire server once for the whole run. */
export default async function globalSetup(): Promise<void> {
  const services = await provisionServices({ log: (line) => process.stdout.write(`\n[test services] ${line}\n`) });
  process.env.TEST_REDIS_URL = services.redisUrl;
  process.env.TEST_MONGODB_URI = services.mongoUri;
  process.env.TEST_MONGO_KIND = services.mongoKind;
  (globalThis as { __servicePids?: number[] }).__servicePids = services.pids;
}
