/**
 * 1. Enqueue: POST /v1/responses {background: true} with no worker running, against the floor: MongoDB insertOne of a
 * copy of a document the api stored plus a bare BullMQ queue.add with the api's job options, same servers.
 */
import { randomBytes } from 'node:crypto';
import { type Collection, type Document, ObjectId } from 'mongodb';
import { C, log, rand } from '../config';
import { type Ctx, jobOptions, newRespId, openQueue, postBackground } from '../context';
import * as L from '../lib';
import { startBenchStack } from '../stack';

export interface Rate {
  rps: number;
  ok: number;
  errors: number;
  firstError: string | null;
  latency: L.Summary;
}

function rateOf(runs: L.LoadResult[]): Rate {
  const ok = runs.reduce((s, r) => s + r.ok, 0);
  const elapsed = runs.reduce((s, r) => s + r.elapsedMs, 0);
  return {
    rps: L.round(ok / (elapsed / 1000), 1),
    ok,
    errors: runs.reduce((s, r) => s + r.errors, 0),
    firstError: runs.find((r) => r.firstError)?.firstError ?? null,
    latency: L.summarize(runs.flatMap((r) => r.latencies)),
  };
}

export async function phaseEnqueue(ctx: Ctx) {
  log('1/6 enqueue: POST /v1/responses background:true vs bare insertOne + queue.add');
  const st = await startBenchStack(ctx, { label: 'enqueue', workers: 0, concurrency: C.workerConcurrency });
  const { queue: floorQueue, close: closeFloorQueue } = openQueue(`bfloor-${rand()}`, ctx.redisUrl, 1);
  try {
    await L.runLoad({
      concurrency: 16,
      count: C.enqueue.warmup,
      op: () => postBackground(st.pool).then(() => undefined),
    });
    // The floor writes documents of the same shape as ours: a copy of one the api stored.
    const template = await ctx.mongo.db(st.db).collection('responses').findOne({});
    if (!template) throw new Error('no stored response to copy');
    const floorColl: Collection<Document> = ctx.mongo.db(`bench_floor_${rand()}`).collection('responses');
    await floorColl.createIndex({ userId: 1, responseId: 1 }, { unique: true });
    await floorColl.createIndex({ userId: 1, createdAt: 1, _id: 1 });
    const floorOp = async () => {
      const id = newRespId();
      const at = new Date();
      await floorColl.insertOne({
        ...template,
        _id: new ObjectId(),
        responseId: id,
        omgUrId: `req_${randomBytes(16).toString('hex')}`,
        createdAt: at,
        updatedAt: at,
      });
      await floorQueue.add(
        'run-response',
        { responseId: id, userId: C.userId, requestId: template.omgUrId },
        jobOptions(id),
      );
    };
    await L.runLoad({ concurrency: 16, count: C.enqueue.warmup, op: floorOp });
    const oursOp = () => postBackground(st.pool).then(() => undefined);

    const out: Record<string, { ours: Rate; floor: Rate }> = {};
    for (const conc of C.enqueue.concurrencies) {
      const ours: L.LoadResult[] = [];
      const floor: L.LoadResult[] = [];
      for (let r = 0; r < C.enqueue.rounds; r++) {
        // Alternate the order per round, so drift on a shared machine hits both sides alike.
        const order = r % 2 === 0 ? (['floor', 'ours'] as const) : (['ours', 'floor'] as const);
        for (const side of order) {
          const res = await L.runLoad({
            concurrency: conc,
            durationMs: C.enqueue.roundMs,
            op: side === 'ours' ? oursOp : floorOp,
          });
          (side === 'ours' ? ours : floor).push(res);
        }
      }
      out[`c${conc}`] = { ours: rateOf(ours), floor: rateOf(floor) };
      log(`   c${conc}: ours ${out[`c${conc}`].ours.rps} req/s, floor ${out[`c${conc}`].floor.rps} ops/s`);
    }
    return out;
  } finally {
    await closeFloorQueue();
    await st.stop();
  }
}
