import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { from, type Observable, switchMap } from 'rxjs';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/tokens';
import { keepRawBody, verifyJsonBody } from './json-depth';

const run = (parse: RequestHandler, req: Request, res: Response) =>
  new Promise<void>((resolve, reject) => parse(req, res, (err?: unknown) => (err ? reject(err) : resolve())));

/**
 * Reads and parses the request body (JSON or form-urlencoded) only once the route's guard let the request in:
 * interceptors run after guards, so a request without a valid key is answered 401 from its headers alone, and an
 * unauthenticated client never makes the api read or parse what it sent. JSON nested too deeply is refused while it
 * is still bytes (verifyJsonBody).
 */
@Injectable()
export class ReadBodyInterceptor implements NestInterceptor {
  private readonly json: RequestHandler;
  private readonly form: RequestHandler;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.json = express.json({ limit: config.bodyLimitBytes, verify: verifyJsonBody });
    this.form = express.urlencoded({ limit: config.bodyLimitBytes, extended: true, verify: keepRawBody });
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    return from(run(this.json, req, res).then(() => run(this.form, req, res))).pipe(switchMap(() => next.handle()));
  }
}
