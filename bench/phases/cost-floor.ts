/**
 * 6. Cost, the floor: bare insertOne + queue.add and a no-op worker, all through the same kind of counting proxies as
 * ours, documents copied from the ones our stack stored (`templateDb`).
 */
import { MongoClient, ObjectId } from 'mongodb';
import { mongoUriFor } from '../../tools/dev/services';
import { C, rand } from '../config';
import { type Ctx, jobOptions, newRespId, openQueue, startFloorWorker, waitCompleted } from '../context';
import * as L from '../lib';
import { commandStats, MONITORING, perJob, type Proxies } from './cost-proxies';

export async function measureFloorCost(ctx: Ctx, { proxies, url, snap }: Proxies, templateDb: string) {
  // Floor: bare insertOne + queue.add, no-op worker, all through the same kind of proxies.
  const prefix = `bfloor-cost-${rand()}`;
  const floorColl = new MongoClient(mongoUriFor(url(proxies.mongoFloor, 'mongodb'), `bench_floorcost_${rand()}`));
  const { queue, close: closeQueue } = openQueue(prefix, url(proxies.redisFloor, 'redis'), 1);
  let fw: L.Launched | undefined;
  let floor: Record<string, unknown>;
  try {
    fw = await startFloorWorker(
      ctx,
      'floor-worker-cost',
      url(proxies.redisFloorWorker, 'redis'),
      prefix,
      'floor-cost-worker.log',
    );
    const template = await ctx.mongo.db(templateDb).collection('responses').findOne({});
    const fc = floorColl.db().collection('responses');
    const op = async (i: number) => {
      const id = newRespId();
      await fc.insertOne({ ...template, _id: new ObjectId(), responseId: id });
      await queue.add('run-response', { responseId: id, userId: C.userId, requestId: 'x' }, jobOptions(id));
      void i;
    };
    await L.runLoad({ concurrency: C.cost.concurrency, count: C.cost.warmup, op });
    await waitCompleted(ctx, prefix, C.cost.warmup, 30_000);
    await L.sleep(500);
    const before = snap();
    await ctx.redis.config('RESETSTAT');
    const polls = { n: 0 };
    await L.runLoad({ concurrency: C.cost.concurrency, count: C.cost.jobs, op });
    await waitCompleted(ctx, prefix, C.cost.warmup + C.cost.jobs, 60_000, polls);
    const stats = await commandStats(ctx.redis);
    const after = snap();
    const n = C.cost.jobs;
    const mongo = L.diffCounts(after.mongoFloor, before.mongoFloor);
    const ra = L.diffCounts(after.redisFloor, before.redisFloor);
    const rw = L.diffCounts(after.redisFloorWorker, before.redisFloorWorker);
    // The bench's own completion polls (ZCARD on a direct connection) are not the floor's work.
    const serverCmds = L.sumCounts(stats, (k) => k === 'info' || k.startsWith('config')) - polls.n;
    floor = {
      jobs: n,
      mongoPerJob: L.round(L.sumCounts(mongo, MONITORING) / n, 2),
      mongoByCommand: perJob(mongo, n),
      redisRequestsPerJob: L.round((L.sumCounts(ra) + L.sumCounts(rw)) / n, 2),
      redisProducerByCommand: perJob(ra, n),
      redisWorkerByCommand: perJob(rw, n),
      serverCommandsPerJob: L.round(serverCmds / n, 2),
    };
  } finally {
    await closeQueue();
    await floorColl.close();
    if (fw) await L.stopProcess(fw.child);
  }
  return floor;
}
