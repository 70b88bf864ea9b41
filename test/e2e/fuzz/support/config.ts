/**
 * Property-based fuzzing of every api endpoint, end to end: the built api and worker as separate
 * processes, real Redis and MongoDB wire server, the MOCK upstream with zero latency. fast-check
 * generates request bodies, query strings, headers and ids, sent with raw fetch (the SDK would
 * validate client side) or, for bytes fetch refuses to send, over a raw socket. For every answer:
 *
 *   - never a 5xx and never a hang (every request is bounded); a 4xx, or a 2xx where the random
 *     input happens to be valid (decided per case in the family files, exactly where an oracle is simple);
 *   - errors in the family's envelope: OpenAI's {"error":{message,type,param,code}} for /v1,
 *     /admin and unknown routes, OhMyGPT's {statusCode,message,data:null} under /api/v1/ai/;
 *   - an x-request-id header, errors and refusals by Node's HTTP parser included;
 *
 * and at the end of each family file the api still answers /health and its log has no "unhandled error".
 *
 * The suite is one test file per family (test/e2e/fuzz-*.e2e.test.ts), each on a stack of its own; this folder holds
 * what they share: these settings, the sender and checker (send.ts), the arbitraries, the setup records (world.ts),
 * the closing check (after.ts) and the coverage report.
 *
 * Runs are reproducible: a fixed seed (FUZZ_SEED to change it) and FUZZ_RUNS runs per property
 * (default 25). A failure names the seed and the counterexample path to replay it, and the failing
 * request. Shrinking is off to keep a failing run bounded (FUZZ_SHRINK=1 turns it on);
 * FUZZ_DEBUG=<class substring> prints every answer of the matching classes. The statuses seen per
 * class are printed at the end of each file.
 */
import { KEYS } from '../../../support/stack';

export const SEED = Number(process.env.FUZZ_SEED ?? 7202025);
export const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
export const SHRINK = process.env.FUZZ_SHRINK === '1';
/** A request not answered within this is a hang. */
export const REQUEST_TIMEOUT_MS = 10_000;
export const ADMIN_TOKEN = 'fuzz-admin-token-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${KEYS.alice}` };
export const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
export const JSON_CT = { 'content-type': 'application/json' };
export const FORM_CT = { 'content-type': 'application/x-www-form-urlencoded' };
export const OMG = '/api/v1/ai/openai/v1/chat';
export const OMG_ACTIONS = ['list-completions-data', 'get-completion-data', 'delete-completion-data'] as const;
