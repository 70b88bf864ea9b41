/** 0. Context: the MongoDB wire server's own latency, which every figure of ours that touches MongoDB includes. */
import type { Collection, Document } from 'mongodb';
import { C, log, rand } from '../config';
import type { Ctx } from '../context';
import * as L from '../lib';

/**
 * Context for every figure that involves MongoDB: how long the server of this run takes for a
 * ping and for the lookup every job makes (a record by owner and id), on a small collection and
 * on one the size the end-to-end phase left behind.
 */
export async function phaseMongoServer(ctx: Ctx, appDb: string) {
  const time = async (n: number, f: (i: number) => Promise<unknown>) => {
    const v: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = L.now();
      await f(i);
      v.push(L.now() - t);
    }
    return L.summarize(v);
  };
  const src = ctx.mongo.db(appDb).collection('responses');
  const docs = await src.find({}).toArray();
  if (docs.length === 0) throw new Error(`no documents in ${appDb}`);
  const small = ctx.mongo.db(`bench_diag_${rand()}`).collection('responses');
  await small.createIndex({ userId: 1, responseId: 1 }, { unique: true });
  await small.insertMany(docs.slice(0, 50));
  const byKey = (c: Collection<Document>, pool: Document[]) => (i: number) =>
    c.findOne({ userId: C.userId, responseId: pool[(i * 7) % pool.length].responseId, deletedAt: null });
  const out = {
    ping: await time(20, () => ctx.mongo.db('admin').command({ ping: 1 })),
    smallDocs: 50,
    findOneSmall: await time(20, byKey(small, docs.slice(0, 50))),
    largeDocs: docs.length,
    findOneLarge: await time(20, byKey(src, docs)),
    findOneByIdLarge: await time(20, (i) => src.findOne({ _id: docs[(i * 7) % docs.length]._id })),
    docBytes: JSON.stringify(docs[0]).length,
  };
  log(
    `   MongoDB server: ping ${out.ping.p50} ms, findOne by owner+id ${out.findOneSmall.p50} ms @50 docs, ` +
      `${out.findOneLarge.p50} ms @${out.largeDocs} docs (by _id ${out.findOneByIdLarge.p50} ms)`,
  );
  return out;
}
