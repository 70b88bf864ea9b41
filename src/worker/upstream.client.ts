import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Agent, request } from 'undici';
import type { AppConfig, UpstreamTimeouts } from '../config/app-config';
import { APP_CONFIG } from '../config/tokens';
import { Metrics } from '../infra/metrics.service';
import type { Route } from '../domain/routing';
import { parseSse, type SseEvent } from './sse';
import { isAbortError, isRetryableStatus, networkError, parseRetryAfter, UpstreamError } from './upstream-error';

export interface UpstreamResult {
  status: number;
  body: Record<string, unknown>;
}

/** The client of every route, made once per worker process. */
@Injectable()
export class UpstreamClients implements OnModuleDestroy {
  private readonly clients = new Map<string, UpstreamClient>();

  constructor(@Inject(APP_CONFIG) config: AppConfig, metrics: Metrics) {
    for (const route of config.routes)
      this.clients.set(route.name, new UpstreamClient(route, config.upstreamTimeouts, metrics));
  }

  /** The client of a route; an unknown route (a call from a removed route) is our configuration's fault. */
  for(route: string): UpstreamClient {
    const client = this.clients.get(route);
    if (!client) throw new UpstreamError(`No upstream route named "${route}" is configured.`, null, false);
    return client;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([...this.clients.values()].map((c) => c.close()));
  }
}

/**
 * Calls one OpenAI-compatible upstream route. Timeouts are explicit (undici's 300 s defaults would cut long
 * generations); every call takes an AbortSignal so a cancel stops it at once.
 */
export class UpstreamClient {
  private readonly agent: Agent;
  private readonly base: string;

  constructor(
    readonly route: Route,
    t: UpstreamTimeouts,
    private readonly metrics?: Metrics,
  ) {
    this.agent = new Agent({
      headersTimeout: t.timeoutMs,
      bodyTimeout: t.timeoutMs,
      connect: { timeout: t.connectTimeoutMs },
    });
    this.base = route.baseUrl.replace(/\/+$/, '');
  }

  /** GETs JSON (the route's model list), bounded by `timeoutMs`. */
  async getJson(path: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const signal = AbortSignal.timeout(timeoutMs);
    const res = await guard(signal, () =>
      request(this.url(path), {
        method: 'GET',
        headers: this.headers('application/json'),
        dispatcher: this.agent,
        signal,
      }),
    );
    const text = await guard(signal, () => res.body.text());
    if (res.statusCode >= 400)
      throw new UpstreamError(`The upstream answered HTTP ${res.statusCode}.`, res.statusCode, false);
    return parseJson(text, res.statusCode);
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private headers(accept: string): Record<string, string> {
    const headers: Record<string, string> = { ...this.route.headers, 'content-type': 'application/json', accept };
    if (this.route.apiKey) headers.authorization = `Bearer ${this.route.apiKey}`;
    return headers;
  }

  /** POSTs JSON to `<base><path>` (base given with or without `/v1`) and parses the JSON answer. */
  async postJson(path: string, body: unknown, signal: AbortSignal): Promise<UpstreamResult> {
    const timing = this.timing();
    try {
      const res = await this.send(path, body, signal, 'application/json');
      timing.firstByte();
      const text = await guard(signal, () => res.body.text());
      timing.end('ok');
      return { status: res.statusCode, body: parseJson(text, res.statusCode) };
    } catch (err) {
      timing.end(outcomeOf(err, signal));
      throw err;
    }
  }

  /**
   * Times one upstream request: upstream_time_to_first_byte_seconds once the answer starts, and
   * upstream_request_duration_seconds by outcome once it ended (each at most once).
   */
  private timing() {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    const route = this.route.name;
    let first = false;
    let ended = false;
    return {
      firstByte: () => {
        if (!first) this.metrics?.upstreamFirstByte.observe({ route }, seconds());
        first = true;
      },
      end: (outcome: string) => {
        if (!ended) this.metrics?.upstreamDuration.observe({ route, outcome }, seconds());
        ended = true;
      },
    };
  }

  /**
   * POSTs a streaming request and yields the upstream's server-sent events. Failures before the
   * first byte are thrown like postJson's; a connection cut mid-stream throws a retryable
   * UpstreamError from the iterator.
   */
  async postStream(path: string, body: unknown, signal: AbortSignal): Promise<AsyncIterable<SseEvent>> {
    const timing = this.timing();
    let res: Awaited<ReturnType<UpstreamClient['send']>>;
    try {
      res = await this.send(path, body, signal, 'text/event-stream');
    } catch (err) {
      timing.end(outcomeOf(err, signal));
      throw err;
    }
    const events = parseSse(res.body);
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for await (const event of events) {
            timing.firstByte(); // the first event, not the headers: a stream's headers come before any work
            yield event;
          }
          timing.end('ok');
        } catch (err) {
          timing.end(outcomeOf(err, signal));
          if (isAbortError(err) || signal.aborted) throw err;
          throw networkError(err);
        } finally {
          // The reader stopped at the answer's terminal event (what it needed), or on a cancel.
          timing.end(signal.aborted ? 'cancelled' : 'ok');
        }
      },
    };
  }

  private async send(path: string, body: unknown, signal: AbortSignal, accept: string) {
    const headers = this.headers(accept);
    const res = await guard(signal, () =>
      request(this.url(path), { method: 'POST', headers, body: JSON.stringify(body), dispatcher: this.agent, signal }),
    );
    if (res.statusCode >= 400) {
      const json = parseJson(await guard(signal, () => res.body.text()), res.statusCode);
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
    return res;
  }

  private url(path: string): string {
    // UPSTREAM_BASE_URL may be given with or without the /v1 suffix, as for the OpenAI SDKs.
    const base = /\/v1$/.test(this.base) ? this.base : `${this.base}/v1`;
    return `${base}${path}`;
  }
}

/** A request's outcome label: ok, cancelled, an HTTP status class the upstream answered, or a network failure. */
function outcomeOf(err: unknown, signal: AbortSignal): string {
  if (isAbortError(err) || signal.aborted) return 'cancelled';
  if (err instanceof UpstreamError && err.status !== null) return `http_${Math.floor(err.status / 100)}xx`;
  return 'network_error';
}

/** Runs a network step; aborts pass through, anything else becomes a classified UpstreamError. */
async function guard<T>(signal: AbortSignal, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (isAbortError(err) || signal.aborted) throw err;
    throw networkError(err);
  }
}

function parseJson(text: string, status: number): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    throw new UpstreamError(`The upstream answered ${status} with a body that is not JSON.`, status, status >= 500);
  }
  return (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
}
