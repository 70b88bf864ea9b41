/**
 * Floor for the end-to-end measurement: a bare BullMQ worker with a no-op processor, run as its
 * own process like our worker, with the same queue name, lock and stall settings.
 * Env: REDIS_URL, QUEUE_PREFIX, QUEUE_NAME, CONCURRENCY. Prints "ready" once connected.
 */
import { Worker } from 'bullmq';

async function main(): Promise<void> {
  const env = process.env;
  const worker = new Worker(env.QUEUE_NAME ?? 'responses', async () => undefined, {
    connection: { url: env.REDIS_URL, maxRetriesPerRequest: null },
    prefix: env.QUEUE_PREFIX,
    concurrency: Number(env.CONCURRENCY ?? 10),
    lockDuration: 30_000,
    stalledInterval: 15_000,
    maxStalledCount: 2,
  });
  worker.on('error', (err) => process.stderr.write(`floor worker error: ${err.message}\n`));
  await worker.waitUntilReady();
  process.stdout.write('ready\n');
  const stop = () => void worker.close().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
