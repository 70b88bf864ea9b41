import type * as BoardApi from '@bull-board/api';
import type * as BoardBullMq from '@bull-board/api/bullMQAdapter';
import type * as BoardExpress from '@bull-board/express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '../config/app-config';
import { JobProducer } from '../infra/job-producer.service';
import { bearerOf, tokenMatches } from '../infra/ops-auth';
import { errorEnvelope } from './api-exception.filter';
import { AppError } from '../domain/errors';

export const QUEUE_BOARD_PATH = '/admin/queues';

/** The password of `Authorization: Basic base64(user:password)` (any user name), or null. */
function basicPassword(header: unknown): string | null {
  const encoded = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/=]{1,1400})\s*$/i.exec(header)?.[1] : undefined;
  if (!encoded) return null;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? decoded.slice(colon + 1) : null;
}

/** ADMIN_TOKEN as a Bearer token, or as the password of HTTP basic auth, so a browser can open the board. */
function adminOnly(token: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.headers.authorization;
    if (tokenMatches(bearerOf(header) ?? basicPassword(header), [token])) return next();
    const err = AppError.unauthorized(
      'The queue dashboard needs ADMIN_TOKEN: as a Bearer token, or as the password of HTTP basic auth.',
      'invalid_admin_token',
    );
    res
      .status(401)
      .setHeader('www-authenticate', 'Basic realm="queues", charset="UTF-8"')
      .json(errorEnvelope(err, req.path));
  };
}

/**
 * Bull Board at /admin/queues, for every call queue (one per upstream route), behind ADMIN_TOKEN. Without
 * ADMIN_TOKEN it is not mounted at all (404, like any unknown path).
 */
export function mountQueueBoard(app: NestExpressApplication, config: AppConfig): boolean {
  if (!config.adminToken) return false;
  // Loaded only where the board is on: without ADMIN_TOKEN a start does not pay for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, see above
  const { createBullBoard } = require('@bull-board/api') as typeof BoardApi;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, see above
  const { BullMQAdapter } = require('@bull-board/api/bullMQAdapter') as typeof BoardBullMq;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, see above
  const { ExpressAdapter } = require('@bull-board/express') as typeof BoardExpress;
  const producer = app.get(JobProducer);
  const server = new ExpressAdapter();
  server.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: config.routes.map((r) => new BullMQAdapter(producer.queue(r.name))),
    serverAdapter: server,
    options: { uiConfig: { boardTitle: 'durable-openai-jobs' } },
  });
  app.use(QUEUE_BOARD_PATH, adminOnly(config.adminToken), server.getRouter());
  return true;
}
