import { Cluster, type Redis } from 'ioredis';
import { type Db, MongoClient } from 'mongodb';
import { redisOf, type Stack } from './stack';

/** Direct views of a stack's MongoDB database and Redis keys, to check what is (and is not) kept. */
export interface StackStores {
  db: Db;
  redis: Redis | Cluster;
  /** The event-log key of a call. */
  logKey(id: string): string;
  /** Every Redis key of the stack and its content as text (strings, hashes, lists, sets, streams). */
  redisDump(): Promise<string>;
  close(): Promise<void>;
}

export async function openStores(stack: Stack): Promise<StackStores> {
  const mongo = await MongoClient.connect(stack.env.MONGODB_URI);
  const redis = redisOf(stack.env, 2);
  const prefix = stack.env.QUEUE_PREFIX;
  return {
    db: mongo.db(),
    redis,
    logKey: (id) => `${prefix}:events:${id}`,
    redisDump: async () => {
      const parts: string[] = [];
      // On a cluster each master lists its own keys; BullMQ's are under the hash-tagged prefix there.
      const listers = redis instanceof Cluster ? redis.nodes('master') : [redis];
      const patterns = [`${prefix}:*`, ...(redis instanceof Cluster ? [`{${prefix}}:*`] : [])];
      const keys: string[] = [];
      for (const node of listers) for (const p of patterns) keys.push(...(await node.keys(p)));
      for (const key of keys) {
        const type = await redis.type(key);
        if (type === 'string') parts.push(String(await redis.get(key)));
        else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
        else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, 0, -1)));
        else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
        else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      }
      return parts.join('\n');
    },
    close: async () => {
      await mongo.close();
      redis.disconnect();
    },
  };
}

/** Bytes a Redis stream holds in its entries' fields (what the event log costs, whatever the encoding). */
export async function streamBytes(redis: Redis | Cluster, key: string): Promise<number> {
  const entries = (await redis.xrange(key, '-', '+')) as [string, string[]][];
  return entries.reduce((n, [, fields]) => n + fields.reduce((m, f) => m + Buffer.byteLength(f), 0), 0);
}
