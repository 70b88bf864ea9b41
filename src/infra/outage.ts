/** Error names of the Redis and MongoDB drivers that mean "the store is unreachable". */
const OUTAGE_NAMES = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  // The pool was reset after a network error or a timed-out monitor, or no connection came free in time.
  'MongoPoolClearedError',
  'PoolClearedOnNetworkError',
  'MongoWaitQueueTimeoutError',
  'MaxRetriesPerRequestError',
  // A Redis Cluster none of whose nodes answered.
  'ClusterAllFailedError',
]);

const SOCKET_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Whether an error means Redis or MongoDB is away (as opposed to a bug or bad data). */
export function isOutage(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: unknown; cause?: unknown };
  if (!e || typeof e !== 'object') return false;
  if (e.name && OUTAGE_NAMES.has(e.name)) return true;
  // A socket error the driver passes on as it is (a write to a server that just went away: EPIPE).
  if (typeof e.code === 'string' && SOCKET_CODES.has(e.code)) return true;
  const msg = e.message ?? '';
  if (
    /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|buffering timed out|connection .* closed|Client must be connected|topology was destroyed|socket has been ended by the other party/i.test(
      msg,
    )
  )
    return true;
  // A Redis Cluster with slots unserved (a master away), or not connected yet.
  if (/CLUSTERDOWN|Too many Cluster redirections|Failed to refresh slots cache|Cluster isn't ready/.test(msg))
    return true;
  return e.cause !== undefined && e.cause !== err && isOutage(e.cause);
}

/** A store was unreachable while a job ran: hand the job back rather than spend an attempt. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`store unavailable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'StoreUnavailableError';
  }
}
