/**
 * Helpers for `npm run bench`: child processes (all killed on exit), RSS, percentiles, a bounded load loop, an SSE
 * timing reader, and counting TCP proxies for the MongoDB wire protocol and RESP. The one bounded wait is the tests'.
 */
export { sleep, waitFor } from '../../test/support/wait';
export * from './http';
export * from './processes';
export * from './proxy';
export * from './stats';
