/** The report's rows: every figure of a run turned into measurement, ours, baseline or peer, ratio, target, met. */
import { C } from './config';
import type { phaseCost } from './phases/cost';
import type { phaseE2E } from './phases/e2e';
import type { phaseEnqueue } from './phases/enqueue';
import type { phaseMemory } from './phases/memory';
import type { phaseMongoServer } from './phases/mongo-server';
import { type phaseStream, STORED_RESPONSES } from './phases/stream';
import type { phaseSync } from './phases/sync';

/** What a run measured, by phase; a phase that failed or was not reached is absent. */
export interface Results {
  enqueue?: Awaited<ReturnType<typeof phaseEnqueue>>;
  e2e?: Awaited<ReturnType<typeof phaseE2E>>;
  sync?: Awaited<ReturnType<typeof phaseSync>>;
  stream?: Awaited<ReturnType<typeof phaseStream>>;
  memory?: Awaited<ReturnType<typeof phaseMemory>>;
  cost?: Awaited<ReturnType<typeof phaseCost>>;
  mongoServer?: Awaited<ReturnType<typeof phaseMongoServer>>;
}

export interface Row {
  measurement: string;
  ours: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean | null;
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
const pctStr = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(v < 0.1 ? 1 : 0)}%` : 'n/a');

export function buildRows(r: Results): Row[] {
  const rows: Row[] = [];
  if (r.enqueue) {
    for (const [c, v] of Object.entries(r.enqueue)) {
      const ratio = v.ours.rps / v.floor.rps;
      rows.push({
        measurement: `1. Enqueue POST /v1/responses background, ${c}`,
        ours: `${f1(v.ours.rps)} req/s (p50 ${f2(v.ours.latency.p50)} / p99 ${f2(v.ours.latency.p99)} ms)`,
        baseline: `floor ${f1(v.floor.rps)} ops/s (p50 ${f2(v.floor.latency.p50)} / p99 ${f2(v.floor.latency.p99)} ms)`,
        ratio: pctStr(ratio),
        target: '>= 70% of floor',
        met: v.ours.errors === 0 && ratio >= 0.7,
      });
      const wire = r.cost?.background.mongoWireMsPerJob.apiMs;
      if (wire !== undefined)
        rows.push({
          measurement: `1. Enqueue ${c}: p50 without the api's MongoDB wire time (${f2(wire)} ms/job, cost phase)`,
          // The wire time is taken in the cost phase, where calls queue at the test database's one-at-a-time proxy:
          // above this phase's p50 it says the two cannot be separated in this run, not that ours took less than 0.
          ours: wire <= v.ours.latency.p50 ? `${f2(v.ours.latency.p50 - wire)} ms` : 'not separable (wire > p50)',
          baseline: `floor p50 ${f2(v.floor.latency.p50)} ms (its insertOne included)`,
          ratio: '',
          target: '(reported)',
          met: null,
        });
    }
  }
  if (r.e2e) {
    for (const [w, v] of Object.entries(r.e2e.runs)) {
      rows.push({
        measurement: `2. End to end POST -> completed, ${w.slice(1)} worker(s)`,
        ours:
          `${f1(v.ours.jobsPerSec)} jobs/s (${v.ours.jobs}` +
          `${v.ours.partial ? ` of ${v.ours.posted} jobs done by the ${C.e2e.capMs / 1000} s cap` : ' jobs'})`,
        baseline: `floor ${f1(v.floor.jobsPerSec)} jobs/s (${v.floor.jobs} jobs)`,
        ratio: pctStr(v.ours.jobsPerSec / v.floor.jobsPerSec),
        target: '(reported)',
        met: null,
      });
    }
  }
  if (r.sync) {
    for (const [c, v] of Object.entries(r.sync)) {
      for (const p of ['p50', 'p99'] as const) {
        const ours = v.ours[p] - v.direct[p];
        const peer = v.peer ? v.peer[p] - v.direct[p] : NaN;
        rows.push({
          measurement: `3. Sync chat overhead ${p}, ${c} (direct ${f2(v.direct[p])} ms)`,
          ours: `${f2(ours)} ms (total ${f2(v.ours[p])}, n=${v.ours.n})`,
          baseline: v.peer ? `Portkey ${f2(peer)} ms (total ${f2(v.peer[p])}, n=${v.peer.n})` : `Portkey n/a`,
          ratio: v.peer ? `${f2(ours / peer)}x` : 'n/a',
          target: p === 'p50' ? '<= peer overhead' : '<= 2 x peer overhead',
          met: v.peer ? v.ours.errors === 0 && ours <= (p === 'p50' ? peer : 2 * peer) : null,
        });
      }
    }
  }
  if (r.stream) {
    for (const [kind, v] of Object.entries(r.stream)) {
      const ttft = v.ours.ttft.p50 - v.direct.ttft.p50;
      const ttft99 = v.ours.ttft.p99 - v.direct.ttft.p99;
      const peer = v.peer ? v.peer.ttft.p50 - v.direct.ttft.p50 : NaN;
      rows.push({
        measurement: `4. Stream ${kind} first-token overhead p50 (direct ${f2(v.direct.ttft.p50)} ms)`,
        ours: `${f2(ttft)} ms (p99 ${f2(ttft99)}, n=${v.ours.n})`,
        baseline: v.peer ? `Portkey ${f2(peer)} ms (p99 ${f2(v.peer.ttft.p99 - v.direct.ttft.p99)})` : 'Portkey n/a',
        ratio: v.peer ? `${f2(ttft / peer)}x` : 'n/a',
        target: kind === STORED_RESPONSES ? '(reported)' : '<= peer overhead',
        met: v.peer && kind !== STORED_RESPONSES ? v.ours.errors === 0 && ttft <= peer : null,
      });
      rows.push({
        measurement: `4. Stream ${kind} inter-token overhead, mean (direct ${f2(v.direct.gapMean)} ms)`,
        ours: `${f2(v.ours.gapMean - v.direct.gapMean)} ms (gap p99 ${f2(v.ours.gap.p99)} vs ${f2(v.direct.gap.p99)})`,
        baseline: v.peer
          ? `Portkey ${f2(v.peer.gapMean - v.direct.gapMean)} ms (gap p99 ${f2(v.peer.gap.p99)})`
          : 'Portkey n/a',
        ratio: '',
        target: '(reported)',
        met: null,
      });
    }
  }
  if (r.memory) {
    const q = r.memory.queued;
    const at = (label: string) => q.find((x) => x.label === label);
    const five = at(`${C.memQueued.checkpoints[0]} queued`);
    const ten = at(`${C.memQueued.checkpoints[1]} queued`);
    const cold = q[0];
    const pk = r.memory.peaks;
    const k = (n: number) => `${n / 1000}k`;
    const checkpoints = `${k(C.memQueued.checkpoints[0])} / ${k(C.memQueued.checkpoints[1])}`;
    if (five && ten && pk?.apiFirst) {
      const ratio = pk.apiSecond / pk.apiFirst;
      rows.push({
        measurement: `5. api RSS at 0 (cold) / ${checkpoints} queued jobs`,
        ours: `${f1(cold.apiMb)} / ${f1(five.apiMb)} / ${f1(ten.apiMb)} MiB (${ten.queued} queued)`,
        baseline:
          `peak while queueing ${k(pk.windows.first[0])}-${k(pk.windows.first[1])}: ${f1(pk.apiFirst)} MiB, ` +
          `${k(pk.windows.second[0])}-${k(pk.windows.second[1])}: ${f1(pk.apiSecond)} MiB`,
        ratio: `${f2(ratio)}x`,
        target: 'flat: 2nd peak <= 1.10 x 1st',
        met: ratio <= 1.1,
      });
      rows.push({
        measurement: `5. worker RSS at 0 (cold) / ${checkpoints} queued jobs`,
        ours: `${f1(cold.workerMb)} / ${f1(five.workerMb)} / ${f1(ten.workerMb)} MiB`,
        baseline: `peaks ${f1(pk.workerFirst)} / ${f1(pk.workerSecond)} MiB`,
        ratio: `${f2(pk.workerSecond / pk.workerFirst)}x`,
        target: '(reported)',
        met: null,
      });
    }
    const gcs = r.memory.fullGcs ?? [];
    if (gcs.length > 0) {
      rows.push({
        measurement: '5. api live JS heap after each full GC while queueing',
        ours:
          `${gcs.map((g) => f1(g.liveMb)).join(' -> ')} MB ` +
          `(at ${gcs.map((g) => k(Math.round(g.posted / 100) * 100)).join(', ')} posted)`,
        baseline: `heap between full GCs up to ${f1(Math.max(...gcs.map((g) => g.heapMb)))} MB`,
        ratio: `${f2(gcs.at(-1)!.liveMb / gcs[0].liveMb)}x`,
        target: '(diagnostic: leak = rising)',
        met: null,
      });
    }
    const s = r.memory.streams as {
      streams: number;
      idle: { apiMb: number; workerMb: number };
      during: { apiMb: number; workerMb: number; open: number; workerActiveJobs: number };
      apiKbPerStream: number;
      workerKbPerActiveStream: number | null;
    };
    if (s?.during) {
      rows.push({
        measurement: `5. api RSS with ${s.during.open} open streams`,
        ours: `${f1(s.during.apiMb)} MiB (${f1(s.apiKbPerStream)} KiB/stream)`,
        baseline: `idle ${f1(s.idle.apiMb)} MiB`,
        ratio: `${f2(s.during.apiMb / s.idle.apiMb)}x`,
        target: '(reported)',
        met: null,
      });
      rows.push({
        measurement: `5. worker RSS, ${s.during.workerActiveJobs} of the streams' jobs taken`,
        ours:
          `${f1(s.during.workerMb)} MiB ` +
          `(${s.workerKbPerActiveStream === null ? 'n/a' : f1(s.workerKbPerActiveStream)} KiB/job)`,
        baseline: `idle ${f1(s.idle.workerMb)} MiB`,
        ratio: `${f2(s.during.workerMb / s.idle.workerMb)}x`,
        target: '(reported)',
        met: null,
      });
    }
  }
  if (r.mongoServer) {
    const m = r.mongoServer;
    rows.push({
      measurement: `0. MongoDB wire server: ping / findOne by owner+id @${m.smallDocs} / @${m.largeDocs} docs, p50`,
      ours: `${f2(m.ping.p50)} / ${f2(m.findOneSmall.p50)} / ${f2(m.findOneLarge.p50)} ms`,
      baseline: `findOne by _id @${m.largeDocs} docs: ${f2(m.findOneByIdLarge.p50)} ms`,
      ratio: '',
      target: '(context)',
      met: null,
    });
  }
  if (r.cost) {
    const b = r.cost.background;
    rows.push({
      measurement: '6. MongoDB round trips per background job',
      ours: `${f2(b.mongo.totalPerJob)} (api ${f2(b.mongo.apiPerJob)} + worker ${f2(b.mongo.workerPerJob)})`,
      baseline: `floor ${f2(r.cost.floor.mongoPerJob)} (bare insertOne)`,
      ratio: `${f2(b.mongo.totalPerJob / r.cost.floor.mongoPerJob)}x`,
      target: '<= 3',
      met: b.mongo.totalPerJob <= 3,
    });
    rows.push({
      measurement: '6. Redis requests per background job',
      ours:
        `${f2(b.redis.totalRequestsPerJob)} ` +
        `(api ${f2(b.redis.apiRequestsPerJob)} + worker ${f2(b.redis.workerRequestsPerJob)}); ` +
        `server cmds ${f2(b.redis.serverCommandsPerJob)}`,
      baseline: `floor ${f2(r.cost.floor.redisRequestsPerJob)}; server cmds ${f2(r.cost.floor.serverCommandsPerJob)}`,
      ratio: `${f2(b.redis.totalRequestsPerJob / r.cost.floor.redisRequestsPerJob)}x`,
      target: '(reported)',
      met: null,
    });
    const sy = r.cost.sync;
    rows.push({
      measurement: '6. MongoDB round trips on the way of a sync chat (store:false), api',
      ours: `${f2(sy.mongoApiPerCall)} (${f2(sy.mongoApiWireMsPerCall)} ms wire); all, tombstone after: ${f2(sy.mongoPerCall)}`,
      baseline: '',
      ratio: '',
      target: '0',
      met: sy.mongoApiPerCall === 0,
    });
    rows.push({
      measurement: '6. Redis per sync chat (store:false)',
      ours: `${f2(sy.redisRequestsPerCall)} requests; server cmds ${f2(sy.redisServerCommandsPerCall)}`,
      baseline: '',
      ratio: '',
      target: '(reported)',
      met: null,
    });
    rows.push({
      measurement: '6. MongoDB wire time per background job (at the counting proxy)',
      ours: `api ${f2(b.mongoWireMsPerJob.apiMs)} + worker ${f2(b.mongoWireMsPerJob.workerMs)} ms`,
      baseline: '',
      ratio: '',
      target: '(test database)',
      met: null,
    });
    const peerCpu = r.cost.peerCpu?.msPerCall ?? NaN;
    const cpuRow = (what: string, c: { apiMs: number; workerMs: number; totalMs: number }, max: number) => ({
      measurement: `7. CPU per ${what}, api + worker (/proc)`,
      ours: `${f2(c.totalMs)} ms (api ${f2(c.apiMs)} + worker ${f2(c.workerMs)})`,
      baseline: `Portkey ${f2(peerCpu)} ms per proxied call`,
      ratio: `${f2(c.totalMs / peerCpu)}x`,
      target: `<= ${max} x Portkey`,
      met: Number.isFinite(peerCpu) ? c.totalMs <= max * peerCpu : null,
    });
    rows.push(cpuRow('sync chat (store:false)', sy.cpuPerCall, 1.5));
    rows.push(cpuRow('background job', b.cpuPerJob, 3));
  }
  return rows;
}
