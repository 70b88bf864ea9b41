/**
 * The fuzz suite's settings: a fixed seed (FUZZ_SEED to change it) and FUZZ_RUNS runs per property (default 25),
 * shrinking off unless FUZZ_SHRINK=1, the hang bound, and the credentials and paths every family uses.
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
