import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Agent, request } from 'undici';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../infra/tokens';
import { isAbortError, isRetryableStatus, networkError, parseRetryAfter, UpstreamError } from './upstream-error';

export interface UpstreamResult {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Calls the OpenAI-compatible upstream. Timeouts are explicit (undici's 300 s defaults would
 * cut long generations); every call takes an AbortSignal so a cancel stops it at once.
 */
@Injectable()
export class UpstreamClient implements OnModuleDestroy {
  private readonly agent: Agent;
  private readonly base: string;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const t = config.upstream;
    this.agent = new Agent({ headersTimeout: t.timeoutMs, bodyTimeout: t.timeoutMs, connect: { timeout: t.connectTimeoutMs } });
    this.base = t.baseUrl.replace(/\/+$/, '');
  }

  /** POSTs JSON to `<base><path>` (base includes `/v1` or not, as configured) and parses JSON. */
  async postJson(path: string, body: unknown, signal: AbortSignal): Promise<UpstreamResult> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.config.upstream.apiKey) headers.authorization = `Bearer ${this.config.upstream.apiKey}`;
    let res;
    try {
      res = await request(this.url(path), {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        dispatcher: this.agent,
        signal,
      });
    } catch (err) {
      if (isAbortError(err) || signal.aborted) throw err;
      throw networkError(err);
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      if (isAbortError(err) || signal.aborted) throw err;
      throw networkError(err);
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      throw new UpstreamError(`The upstream answered ${res.statusCode} with a body that is not JSON.`, res.statusCode, res.statusCode >= 500);
    }
    const json = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    if (res.statusCode >= 400) {
      const err = (json.error ?? {}) as { message?: unknown; code?: unknown };
      const message = typeof err.message === 'string' ? err.message : `The upstream answered HTTP ${res.statusCode}.`;
      throw new UpstreamError(
        message,
        res.statusCode,
        isRetryableStatus(res.statusCode),
        parseRetryAfter(res.headers),
        typeof err.code === 'string' ? err.code : null,
      );
    }
    return { status: res.statusCode, body: json };
  }

  private url(path: string): string {
    // UPSTREAM_BASE_URL may be given with or without the /v1 suffix, as for the OpenAI SDKs.
    const base = /\/v1$/.test(this.base) ? this.base : `${this.base}/v1`;
    return `${base}${path}`;
  }

  async onModuleDestroy(): Promise<void> {
    await this.agent.close();
  }
}
