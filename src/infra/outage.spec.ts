import { isOutage } from './outage';

describe('isOutage', () => {
  it('reads a Redis Cluster with a master away as an outage (the api answers 503)', () => {
    expect(
      isOutage(new Error('Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down')),
    ).toBe(true);
    expect(isOutage(new Error('CLUSTERDOWN Hash slot not served'))).toBe(true);
    expect(isOutage(new Error("Cluster isn't ready and enableOfflineQueue options is false"))).toBe(true);
    expect(
      isOutage(Object.assign(new Error('Failed to refresh slots cache.'), { name: 'ClusterAllFailedError' })),
    ).toBe(true);
  });

  it('reads a write to a MongoDB that just went away as an outage (the driver passes the socket error on as it is)', () => {
    const epipe = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
    expect(isOutage(epipe)).toBe(true);
    expect(isOutage(Object.assign(new Error('write failed'), { code: 'ECONNRESET' }))).toBe(true);
  });

  it('does not take a script or a data error for one', () => {
    expect(isOutage(new Error("CROSSSLOT Keys in request don't hash to the same slot"))).toBe(false);
    expect(isOutage(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
  });
});
