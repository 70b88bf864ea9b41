import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ApiKeysService } from '../application/api-keys.service';
import type { Caller } from '../domain/caller';
import { AppError } from '../domain/errors';

const MAX_KEY_LENGTH = 512;

type AuthedRequest = Request & { caller?: Caller };

/** The caller a bearer key names, or the 401 OpenAI answers. */
export async function callerOf(keys: ApiKeysService, header: unknown): Promise<Caller> {
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) {
    throw AppError.unauthorized(
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    );
  }
  const key = match[1];
  const caller = key.length <= MAX_KEY_LENGTH ? await keys.authenticate(key) : null;
  if (!caller) {
    // Like OpenAI, show only the key's ends so a leaked log line does not leak the key.
    const shown = key.length > 8 ? `${key.slice(0, 3)}***${key.slice(-4)}` : '***';
    throw AppError.unauthorized(`Incorrect API key provided: ${shown}.`, 'invalid_api_key');
  }
  return caller;
}

/** Bearer-key authentication for every /v1 route; the caller's userId scopes all that follows. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(private readonly keys: ApiKeysService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    req.caller ??= await callerOf(this.keys, req.headers.authorization);
    return true;
  }
}

export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const req = context.switchToHttp().getRequest<AuthedRequest>();
  if (!req.caller) throw new Error('CurrentCaller used on a route without AuthGuard');
  return req.caller;
});
