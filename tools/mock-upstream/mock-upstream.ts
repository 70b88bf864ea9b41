/**
 * MOCK UPSTREAM: a fake OpenAI-compatible model server for tests and offline runs. It is not a
 * model. It answers `POST /v1/responses` and `POST /v1/chat/completions` with canned text, as
 * JSON or, with `stream: true`, as server-sent events in OpenAI's shapes, and
 * has knobs for latency, failures and slow token pacing. It records every call (with its body),
 * including calls the client aborted, under `GET /__mock/requests`. Like OpenAI's, it refuses a
 * `previous_response_id` or `conversation` it has never seen (it sees none: we resolve ours).
 *
 * Knobs, per request in `metadata` (strings), or as defaults via `POST /__mock/config`:
 *   mock_latency_ms      wait before answering
 *   mock_tokens          number of output tokens (words) to produce
 *   mock_token_delay_ms  wait per output token (slow generation)
 *   mock_fail            "429" | "500" | "502" | "503" | "400" | "reset" | "hang" | "badjson"
 *                        | "midstream" (streams: cut the connection halfway through the tokens)
 *                        | "stream_error" (streams: an error event halfway through)
 *   mock_fail_times      fail only the first N calls for this mock_key (default: every call)
 *   mock_retry_after     Retry-After seconds sent with a failure
 *   mock_echo_auth       "1": a failure's message repeats the request's Authorization header, as a careless
 *                        upstream might (to test that our credential never travels on)
 *   mock_key             groups calls for mock_fail_times and for the record (default: a hash of the input)
 *
 * Chat Completions answers act a little like a model server: with function `tools` and no `tool` message last, it
 * calls the first tool (arguments built from its parameters' schema); after a `tool` message it answers text quoting
 * the tool's result; `max_completion_tokens` (or `max_tokens`) below the token count cuts the answer with
 * `finish_reason: "length"` (and on the Responses API `max_output_tokens` below it ends the response `incomplete`, as
 * OpenAI does, with `incomplete_details.reason: "max_output_tokens"`); `response_format` json_schema / json_object answers JSON (an object with the schema's
 * properties). `chatOnly` makes it a Chat-Completions-only server (`/v1/responses` answers 404); `GET /v1/models`
 * lists `models`. `peakConcurrency()` is the most calls it ever ran at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockKnobs {
  latencyMs: number;
  tokens: number;
  tokenDelayMs: number;
  fail: string | null;
  failTimes: number | null;
  retryAfter: number | null;
  echoAuth: boolean;
}

export interface MockCall {
  seq: number;
  path: string;
  key: string;
  model: string | null;
  startedAt: number;
  endedAt: number | null;
  outcome: 'running' | 'ok' | 'failed' | 'aborted';
  status: number | null;
  authorized: boolean;
  /** The request body as received (to check what context a call was sent with). */
  body: Record<string, unknown>;
}

export interface MockUpstream {
  url: string;
  calls(): MockCall[];
  /** The most calls that were running at once since the start (or the last reset). */
  peakConcurrency(): number;
  setDefaults(knobs: Partial<MockKnobs>): void;
  reset(): void;
  close(): Promise<void>;
}

const DEFAULTS: MockKnobs = {
  latencyMs: 0,
  tokens: 8,
  tokenDelayMs: 0,
  fail: null,
  failTimes: null,
  retryAfter: null,
  echoAuth: false,
};

export async function startMockUpstream(
  opts: {
    port?: number;
    host?: string;
    apiKey?: string;
    defaults?: Partial<MockKnobs>;
    /** Speak only Chat Completions, as llama.cpp's server or many hosted APIs do. */
    chatOnly?: boolean;
    /** What `GET /v1/models` lists. */
    models?: string[];
  } = {},
): Promise<MockUpstream> {
  let defaults: MockKnobs = { ...DEFAULTS, ...opts.defaults };
  let calls: MockCall[] = [];
  let running = 0;
  let peak = 0;
  const attemptsByKey = new Map<string, number>();
  let seq = 0;

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/__mock/requests') return sendJson(res, 200, { data: calls });
    if (req.method === 'POST' && path === '/__mock/config') {
      defaults = { ...defaults, ...(JSON.parse((await readBody(req)) || '{}') as Partial<MockKnobs>) };
      return sendJson(res, 200, defaults);
    }
    if (req.method === 'GET' && path === '/v1/models') {
      const data = (opts.models ?? ['mock-model']).map((id) => ({
        id,
        object: 'model',
        created: 1_700_000_000,
        owned_by: 'mock',
      }));
      return sendJson(res, 200, { object: 'list', data });
    }
    if (req.method === 'POST' && path === '/__mock/reset') {
      calls = [];
      peak = running;
      attemptsByKey.clear();
      return sendJson(res, 200, { ok: true });
    }
    const isResponses = path === '/v1/responses' && !opts.chatOnly;
    const isChat = path === '/v1/chat/completions';
    if (req.method !== 'POST' || (!isResponses && !isChat)) {
      return sendJson(res, 404, {
        error: {
          message: `mock upstream: no route ${req.method} ${path}`,
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
    }

    const raw = await readBody(req);
    const body = JSON.parse(raw || '{}') as Record<string, unknown>;
    const knobs = knobsFor(body, defaults);
    const promptText = isResponses ? inputText(body.input) : chatText(body.messages);
    const key = mockKey(body) ?? createHash('sha256').update(promptText).digest('hex').slice(0, 16);
    const call: MockCall = {
      seq: ++seq,
      path,
      key,
      model: typeof body.model === 'string' ? body.model : null,
      startedAt: Date.now(),
      endedAt: null,
      outcome: 'running',
      status: null,
      authorized: !opts.apiKey || req.headers.authorization === `Bearer ${opts.apiKey}`,
      body,
    };
    calls.push(call);
    peak = Math.max(peak, ++running);
    res.on('close', () => {
      if (!res.writableFinished && call.outcome === 'running') {
        call.outcome = 'aborted';
        call.endedAt = Date.now();
        running--;
      }
    });
    const finish = (outcome: MockCall['outcome'], status: number | null) => {
      if (call.outcome !== 'running') return;
      running--;
      call.outcome = outcome;
      call.status = status;
      call.endedAt = Date.now();
    };
    const gone = () => call.outcome === 'aborted';

    if (!call.authorized) {
      finish('failed', 401);
      return sendJson(res, 401, {
        error: {
          message: 'mock upstream: wrong API key',
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      });
    }
    if (typeof body.model !== 'string') {
      finish('failed', 400);
      return sendJson(res, 400, {
        error: {
          message: "Missing required parameter: 'model'.",
          type: 'invalid_request_error',
          param: 'model',
          code: null,
        },
      });
    }

    // Like OpenAI, this upstream keeps no state of ours: it has never seen our response or conversation ids.
    if (isResponses && typeof body.previous_response_id === 'string') {
      finish('failed', 400);
      return sendJson(res, 400, {
        error: {
          message: `Previous response with id '${body.previous_response_id}' not found.`,
          type: 'invalid_request_error',
          param: 'previous_response_id',
          code: 'previous_response_not_found',
        },
      });
    }
    if (isResponses && body.conversation !== undefined && body.conversation !== null) {
      finish('failed', 404);
      return sendJson(res, 404, {
        error: { message: 'Conversation not found.', type: 'invalid_request_error', param: 'conversation', code: null },
      });
    }

    const attempt = (attemptsByKey.get(key) ?? 0) + 1;
    attemptsByKey.set(key, attempt);
    await sleep(knobs.latencyMs);
    if (gone()) return;

    const failing = knobs.fail !== null && (knobs.failTimes === null || attempt <= knobs.failTimes);
    const midstream = failing && (knobs.fail === 'midstream' || knobs.fail === 'stream_error');
    if (failing && !midstream) {
      return fail(res, knobs, finish, req.headers.authorization);
    }

    const limit = isResponses && typeof body.max_output_tokens === 'number' ? body.max_output_tokens : Infinity;
    const tokens = Array.from({ length: Math.min(knobs.tokens, limit) }, (_, i) => (i === 0 ? 'Mock' : `token${i}`));
    const cut = knobs.tokens > limit;
    if (body.stream === true) {
      const stream = isResponses
        ? responseEvents(body, tokens, countWords(promptText), cut)
        : chatChunks(body, tokens, countWords(promptText));
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const cutAt = midstream ? Math.max(1, Math.floor(stream.deltas / 2)) : -1;
      let deltasSent = 0;
      for (const ev of stream.events) {
        if (ev.delta) {
          if (deltasSent === cutAt) {
            if (knobs.fail === 'midstream') {
              finish('failed', 200);
              // Let what was written reach the client first, then cut the connection.
              await new Promise<void>((resolve) => res.write('', () => resolve()));
              await sleep(20);
              res.socket?.destroy();
            } else {
              finish('failed', 200);
              res.end(
                isResponses
                  ? sse(
                      {
                        type: 'error',
                        code: 'server_error',
                        message: 'mock upstream: injected stream error',
                        param: null,
                        sequence_number: 999,
                      },
                      'error',
                    )
                  : `data: ${JSON.stringify({ error: { message: 'mock upstream: injected stream error', type: 'server_error', param: null, code: 'server_error' } })}\n\n`,
              );
            }
            return;
          }
          await sleep(knobs.tokenDelayMs);
          if (gone()) return;
          deltasSent++;
        }
        res.write(isResponses ? sse(ev.data, String(ev.data.type)) : `data: ${JSON.stringify(ev.data)}\n\n`);
      }
      if (!isResponses) res.write('data: [DONE]\n\n');
      finish('ok', 200);
      res.end();
      return;
    }
    for (let i = 0; i < tokens.length && knobs.tokenDelayMs > 0; i++) {
      await sleep(knobs.tokenDelayMs);
      if (gone()) return;
    }
    const text = tokens.join(' ');
    const inputTokens = countWords(promptText);
    const payload = isResponses
      ? responseBody(body, text, inputTokens, tokens.length, cut)
      : chatBody(body, text, inputTokens, tokens.length);
    finish('ok', 200);
    sendJson(res, 200, payload);
  }

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    calls: () => calls.map((c) => ({ ...c })),
    peakConcurrency: () => peak,
    setDefaults: (k) => {
      defaults = { ...defaults, ...k };
    },
    reset: () => {
      calls = [];
      peak = running;
      attemptsByKey.clear();
      defaults = { ...DEFAULTS, ...opts.defaults };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function fail(
  res: ServerResponse,
  knobs: MockKnobs,
  finish: (o: MockCall['outcome'], s: number | null) => void,
  authorization: string | undefined,
): void {
  const mode = knobs.fail!;
  if (mode === 'reset') {
    finish('failed', null);
    res.socket?.destroy();
    return;
  }
  if (mode === 'hang') return; // never answers; the client's timeout must end it
  if (mode === 'badjson') {
    finish('failed', 200);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"not json');
    return;
  }
  const status = Number(mode);
  const headers: Record<string, string> = {};
  if (knobs.retryAfter !== null) headers['retry-after'] = String(knobs.retryAfter);
  finish('failed', status);
  const type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  const code = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_value';
  const echo = knobs.echoAuth ? ` (you sent authorization: ${authorization ?? 'none'})` : '';
  const message = `mock upstream: injected ${status}${echo}`;
  sendJson(res, status, { error: { message, type, param: null, code } }, headers);
}

interface MockStream {
  events: { data: Record<string, unknown>; delta: boolean }[];
  deltas: number;
}

const sse = (data: unknown, event: string): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** The Responses stream OpenAI sends for one text message, event for event. */
function responseEvents(req: Record<string, unknown>, tokens: string[], inputTokens: number, cut = false): MockStream {
  const final = responseBody(req, tokens.join(' '), inputTokens, tokens.length, cut);
  const item = (final.output as Record<string, unknown>[])[0];
  const itemId = item.id as string;
  const text = tokens.join(' ');
  const partial = { ...final, status: 'in_progress', output: [], usage: null, completed_at: null };
  const events: MockStream['events'] = [];
  let seq = 0;
  const push = (data: Record<string, unknown>, delta = false) =>
    events.push({ data: { ...data, sequence_number: seq++ }, delta });
  push({ type: 'response.created', response: partial });
  push({ type: 'response.in_progress', response: partial });
  push({ type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
  const emptyPart = { type: 'output_text', annotations: [], logprobs: [], text: '' };
  push({ type: 'response.content_part.added', item_id: itemId, output_index: 0, content_index: 0, part: emptyPart });
  tokens.forEach((t, i) =>
    push(
      {
        type: 'response.output_text.delta',
        item_id: itemId,
        output_index: 0,
        content_index: 0,
        delta: i === 0 ? t : ` ${t}`,
        logprobs: [],
      },
      true,
    ),
  );
  push({ type: 'response.output_text.done', item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] });
  push({
    type: 'response.content_part.done',
    item_id: itemId,
    output_index: 0,
    content_index: 0,
    part: { ...emptyPart, text },
  });
  push({ type: 'response.output_item.done', output_index: 0, item });
  push({ type: final.status === 'incomplete' ? 'response.incomplete' : 'response.completed', response: final });
  return { events, deltas: tokens.length };
}

interface ChatAnswer {
  /** Text deltas (empty for a tool call). */
  parts: string[];
  toolCall: { id: string; name: string; arguments: string } | null;
  finish: 'stop' | 'length' | 'tool_calls';
}

/** What the fake model answers a chat request with (see the header: tools, limits, response formats). */
function chatAnswer(req: Record<string, unknown>, tokens: string[]): ChatAnswer {
  const messages = Array.isArray(req.messages) ? (req.messages as Record<string, unknown>[]) : [];
  const last = messages[messages.length - 1];
  const tools = Array.isArray(req.tools) ? (req.tools as Record<string, unknown>[]) : [];
  const fn = tools.find((t) => t?.type === 'function')?.function as Record<string, unknown> | undefined;
  if (fn && last?.role !== 'tool' && req.tool_choice !== 'none') {
    const args = JSON.stringify(valueFor(fn.parameters));
    return {
      parts: [],
      toolCall: { id: `call_mock${randomBytes(8).toString('hex')}`, name: String(fn.name), arguments: args },
      finish: 'tool_calls',
    };
  }
  let parts = tokens.map((t, i) => (i === 0 ? t : ` ${t}`));
  if (last?.role === 'tool') parts = [`Mock`, ` tool`, ` said:`, ` ${contentText(last.content)}`];
  const format = req.response_format as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  if (format?.type === 'json_schema') parts = [JSON.stringify(valueFor(format.json_schema?.schema))];
  if (format?.type === 'json_object') parts = [JSON.stringify({ mock: tokens.join(' ') })];
  const limit = Number(req.max_completion_tokens ?? req.max_tokens ?? Infinity);
  if (parts.length > limit) return { parts: parts.slice(0, limit), toolCall: null, finish: 'length' };
  return { parts, toolCall: null, finish: 'stop' };
}

/** A value of a JSON schema's shape: objects get every property, strings "mock", numbers 1. */
function valueFor(schema: unknown): unknown {
  const s = (typeof schema === 'object' && schema !== null ? schema : {}) as Record<string, unknown>;
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === 'object' || s.properties) {
    const props = (s.properties ?? {}) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, valueFor(v)]));
  }
  if (Array.isArray(s.enum)) return s.enum[0];
  if (type === 'array') return [valueFor(s.items)];
  if (type === 'number' || type === 'integer') return 1;
  if (type === 'boolean') return true;
  if (type === 'null') return null;
  return 'mock';
}

/** Chat chunks as OpenAI sends them: role first, content deltas, finish_reason, usage if asked. */
function chatChunks(req: Record<string, unknown>, tokens: string[], promptTokens: number): MockStream {
  const answer = chatAnswer(req, tokens);
  const whole = chatBody(req, tokens.join(' '), promptTokens, tokens.length, answer);
  const base = {
    id: whole.id,
    object: 'chat.completion.chunk',
    created: whole.created,
    model: whole.model,
    service_tier: 'default',
    system_fingerprint: null,
  };
  const choice = (delta: Record<string, unknown>, finish: string | null) => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });
  const events: MockStream['events'] = [
    {
      data: {
        ...base,
        choices: [choice({ role: 'assistant', content: answer.toolCall ? null : '', refusal: null }, null)],
      },
      delta: false,
    },
  ];
  answer.parts.forEach((p) => events.push({ data: { ...base, choices: [choice({ content: p }, null)] }, delta: true }));
  const call = answer.toolCall;
  if (call) {
    const half = Math.ceil(call.arguments.length / 2);
    const head = { index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
    events.push({ data: { ...base, choices: [choice({ tool_calls: [head] }, null)] }, delta: false });
    for (const piece of [call.arguments.slice(0, half), call.arguments.slice(half)]) {
      const delta = { tool_calls: [{ index: 0, function: { arguments: piece } }] };
      events.push({ data: { ...base, choices: [choice(delta, null)] }, delta: true });
    }
  }
  events.push({ data: { ...base, choices: [choice({}, answer.finish)] }, delta: false });
  const opts = req.stream_options as { include_usage?: boolean } | undefined;
  if (opts?.include_usage) events.push({ data: { ...base, choices: [], usage: whole.usage }, delta: false });
  return { events, deltas: events.filter((e) => e.delta).length };
}

function responseBody(
  req: Record<string, unknown>,
  text: string,
  inputTokens: number,
  outputTokens: number,
  /** Cut at max_output_tokens: the response ends incomplete. */
  cut = false,
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    id: `resp_mock${randomBytes(20).toString('hex')}`,
    object: 'response',
    created_at: now,
    status: cut ? 'incomplete' : 'completed',
    completed_at: cut ? null : now,
    error: null,
    incomplete_details: cut ? { reason: 'max_output_tokens' } : null,
    instructions: req.instructions ?? null,
    model: `${String(req.model)}-mock`,
    output: [
      {
        type: 'message',
        id: `msg_mock${randomBytes(20).toString('hex')}`,
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
      },
    ],
    parallel_tool_calls: true,
    temperature: req.temperature ?? 1,
    tool_choice: 'auto',
    tools: [],
    top_p: req.top_p ?? 1,
    metadata: req.metadata ?? {},
    usage: {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: inputTokens + outputTokens,
    },
  };
}

function chatBody(
  req: Record<string, unknown>,
  text: string,
  promptTokens: number,
  outputTokens: number,
  answer: ChatAnswer = chatAnswer(req, text.split(' ')),
): Record<string, unknown> {
  const call = answer.toolCall;
  const toolCalls = call
    ? [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }]
    : undefined;
  const completionTokens = call ? 5 : Math.min(outputTokens, answer.parts.length);
  return {
    id: `chatcmpl-mock${randomBytes(12).toString('hex')}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: `${String(req.model)}-mock`,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: call ? null : answer.parts.join(''),
          refusal: null,
          annotations: [],
          ...(toolCalls ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: answer.finish,
      },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    service_tier: 'default',
  };
}

function knobsFor(body: Record<string, unknown>, d: MockKnobs): MockKnobs {
  const m = (typeof body.metadata === 'object' && body.metadata !== null ? body.metadata : {}) as Record<
    string,
    unknown
  >;
  const num = (v: unknown, def: number | null) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : def);
  return {
    latencyMs: num(m.mock_latency_ms, d.latencyMs) ?? 0,
    tokens: num(m.mock_tokens, d.tokens) ?? 8,
    tokenDelayMs: num(m.mock_token_delay_ms, d.tokenDelayMs) ?? 0,
    fail: typeof m.mock_fail === 'string' ? m.mock_fail : d.fail,
    failTimes: num(m.mock_fail_times, d.failTimes),
    retryAfter: num(m.mock_retry_after, d.retryAfter),
    echoAuth: m.mock_echo_auth === '1' || d.echoAuth,
  };
}

function mockKey(body: Record<string, unknown>): string | null {
  const m = body.metadata as Record<string, unknown> | undefined;
  return typeof m?.mock_key === 'string' ? m.mock_key : null;
}

function inputText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input)) return '';
  return input.map((item: { content?: unknown }) => contentText(item?.content)).join(' ');
}

function chatText(messages: unknown): string {
  return Array.isArray(messages) ? messages.map((m: { content?: unknown }) => contentText(m?.content)).join(' ') : '';
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join(' ');
  return '';
}

const countWords = (s: string): number => s.split(/\s+/).filter(Boolean).length;
const sleep = (ms: number) => new Promise<void>((r) => (ms > 0 ? setTimeout(r, ms) : r()));

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}
