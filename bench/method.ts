/** How every figure is measured, as RESULTS.md states it under the table. */
import { C } from './config';

export const METHOD = [
  'How it was measured (all in one run, on this machine, loopback only):',
  '- Services: a dedicated redis-server and the MongoDB wire server from provisionServices() ' +
    '(MONGODB_URI if set, else mongod on PATH, else FerretDB with SQLite), their files on /dev/shm, the ' +
    'mock upstream (dist-tools/mock-upstream) as its own process, the built api and worker(s) as ' +
    `separate processes (LOG_LEVEL=warn, WORKER_CONCURRENCY=${C.workerConcurrency} unless noted), each ` +
    'stack with its own database and QUEUE_PREFIX.',
  '- 1 Enqueue: POST /v1/responses {background:true} over keep-alive HTTP (undici), ' +
    `${C.enqueue.rounds} alternating rounds of ${C.enqueue.roundMs / 1000} s per side and concurrency, ` +
    'no worker running. Floor: in the bench process, MongoDB driver insertOne of a copy of a document ' +
    "the api stored (same shape and indexes) followed by a bare BullMQ queue.add with the api's job " +
    'options, same Redis and MongoDB server. Latency is per request (ours: HTTP round trip).',
  `- 2 End to end: ${C.e2e.jobs} background jobs posted at concurrency ${C.e2e.concurrency} after ` +
    `${C.e2e.warmup} warm-up jobs, timed from the first POST until BullMQ's completed set holds all of ` +
    `them, or capped at ${C.e2e.capMs / 1000} s (then: jobs completed by the cap / time of the last ` +
    `completion); records verified completed in MongoDB; mock latency 0. Floor: ${C.e2e.floorJobs} bare ` +
    'queue.add calls and a no-op processor in as many separate worker processes with the same ' +
    'concurrency.',
  '- 3 Sync overhead: POST /v1/chat/completions (non-stream) latency minus the same request sent ' +
    'straight to the mock, percentile minus percentile; rotated time-bounded rounds per target (c1: ' +
    `${C.sync.rounds[1]} x ${C.sync.roundMs[1] / 1000} s, c64: ${C.sync.rounds[64]} x ` +
    `${C.sync.roundMs[64] / 1000} s; requests in flight at the end of a round still count). Peer: ` +
    "Portkey's gateway (@portkey-ai/gateway, bench/peer) with x-portkey-provider: openai and " +
    'x-portkey-custom-host pointing at the same mock.',
  `- 4 Streaming: sequential stream:true requests, mock pacing ${C.stream.tokens} tokens x ` +
    `${C.stream.tokenDelayMs} ms; time to first token = request sent -> first token event received; ` +
    'inter-token = gaps between token events, mean, ours minus direct.',
  '- 5 Memory: VmRSS from /proc/<pid>/status: checkpoints are the median of 5 samples over 1 s after 1 ' +
    's idle; RSS is also sampled every 200 ms while queueing, and "flat" compares the peak over the last ' +
    `${C.memQueued.checkpoints[0] / 2} jobs before ${C.memQueued.checkpoints[1]} with the peak over the ` +
    `${C.memQueued.checkpoints[0] / 2} before ${C.memQueued.checkpoints[0]} (RSS follows garbage ` +
    'collection up and down, so single samples are noisy); the api of this stack runs with node ' +
    '--trace-gc, and the live heap after each full (mark-compact) collection is read from its log. ' +
    `Queued: mock latency 10 min, worker concurrency ${C.memQueued.workerConcurrency}, so all but ` +
    `${C.memQueued.workerConcurrency} jobs wait in Redis. Streams: ${C.memStreams.streams} concurrent ` +
    `synchronous streamed responses (open = first event received), mock pacing ${C.memStreams.tokens} x ` +
    `${C.memStreams.tokenDelayMs} ms, sampled ${C.memStreams.settleMs / 1000} s after all were open; the ` +
    'worker runs those it has claimed by then.',
  '- 6 Cost: counting TCP proxies between each process and the servers; MongoDB wire messages (OP_MSG ' +
    'named by command; hello/isMaster monitoring excluded) and RESP commands sent by the client, per ' +
    `job, over ${C.cost.jobs} background jobs after warm-up; "server cmds" is the INFO commandstats ` +
    'delta (includes commands run inside Lua scripts). Floor: the same proxies around insertOne + ' +
    'queue.add + a no-op worker.',
  "- 0 Context: every figure of ours includes the MongoDB wire server's own latency; row 0 gives it (a " +
    "record looked up by owner and id, as the worker's claim and final write do). FerretDB 1.x with " +
    'SQLite does not use the (userId, responseId) index for these lookups, so their cost grows with the ' +
    'collection; production MongoDB does use it.',
  '- Peer notes (read in its package): Portkey 1.15.2 holds the first event of every stream for 25 ms ' +
    'before forwarding it (build/start-server.js), so its first-token overhead has that floor. Its ' +
    '@hono/node-server is held at 1.14.1 (bench/peer/package.json): from 1.14.2 on, its streaming path ' +
    'fails with "TypeError: immutable".',
].join('\n');
