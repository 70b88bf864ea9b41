import { provisionServices } from '../../tools/dev/services';
import { clusterProc } from './processes';

/**
 * Starts (or finds) Redis and a MongoDB wire server once for the whole run; with TEST_REDIS=cluster also a local
 * three-master Redis Cluster, which every stack then runs on (startStack).
 */
export default async function globalSetup(): Promise<void> {
  const services = await provisionServices({ log: (line) => process.stdout.write(`\n[test services] ${line}\n`) });
  process.env.TEST_REDIS_URL = services.redisUrl;
  process.env.TEST_MONGODB_URI = services.mongoUri;
  process.env.TEST_MONGO_KIND = services.mongoKind;
  const g = globalThis as { __servicePids?: number[]; __stopCluster?: () => Promise<void> };
  g.__servicePids = services.pids;
  if (process.env.TEST_REDIS === 'cluster') {
    const cluster = await clusterProc();
    process.env.TEST_REDIS_CLUSTER_NODES = cluster.nodes;
    g.__stopCluster = cluster.stop;
    process.stdout.write(`\n[test services] Redis Cluster of three masters on ${cluster.nodes}\n`);
  } else if (process.env.TEST_REDIS) {
    throw new Error(`TEST_REDIS must be "cluster" or unset (got "${process.env.TEST_REDIS}")`);
  }
}
