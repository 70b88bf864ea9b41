/**
 * The check that closes every fuzz file: after its fuzzing, the api and the worker of that file's stack still run, the
 * api answers /health, and the api's whole log has no unhandled error.
 */
import { readFileSync } from 'node:fs';
import { send } from './send';
import { world } from './world';

export function afterTheFuzzing(): void {
  describe('after the fuzzing', () => {
    it('the api still answers /health and logged no unhandled error', async () => {
      expect(world.stack.apis[0].exitCode).toBeNull();
      expect(world.stack.apis[0].signalCode).toBeNull();
      expect(world.stack.workers[0].exitCode).toBeNull();
      const health = await send({ method: 'GET', path: '/health' });
      expect(health.status).toBe(200);
      expect(health.requestId).toMatch(/^req_[0-9a-f]{32}$/);
      // The whole api log, not the tail stack.logs() shows.
      const file = /^--- (\S+\/api0\.log)$/m.exec(world.stack.logs())?.[1];
      expect(file).toBeDefined();
      const log = readFileSync(file!, 'utf8');
      const bad = log
        .split('\n')
        .filter((l) => /unhandled error|uncaughtException|UnhandledPromiseRejection|Maximum call stack/i.test(l));
      expect(bad.map((l) => l.slice(0, 500))).toEqual([]);
    });
  });
}
