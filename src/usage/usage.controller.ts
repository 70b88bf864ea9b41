import { Controller, Get, Injectable, Query, UseGuards } from '@nestjs/common';
import { AuthGuard, CurrentCaller } from '../auth/auth.guard';
import type { Caller } from '../auth/api-keys.service';
import type { UsageRow } from '../calls/call-records.repository';
import { ChatCompletionsRepository } from '../chat/chat-completions.repository';
import { ApiError } from '../common/api-error';
import { ResponsesRepository } from '../responses/responses.repository';

const MAX_DAYS = 366;
const DAY_MS = 86_400_000;

export interface UsageBucket {
  date: string;
  model: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost_coins: number;
}

/** A caller's finished calls (responses and chat) summed by UTC day and model. */
@Injectable()
export class UsageService {
  constructor(private readonly responses: ResponsesRepository, private readonly chat: ChatCompletionsRepository) {}

  async summary(caller: Caller, from: string, to: string) {
    const rows = [...(await this.responses.usageByDay(caller.userId, from, to)), ...(await this.chat.usageByDay(caller.userId, from, to))];
    const merged = new Map<string, UsageRow>();
    for (const r of rows) {
      const key = `${r.day}\u0000${r.model}`;
      const m = merged.get(key);
      if (!m) merged.set(key, { ...r });
      else {
        m.requests += r.requests;
        m.inputTokens += r.inputTokens;
        m.outputTokens += r.outputTokens;
        m.costCoins += r.costCoins;
      }
    }
    const data: UsageBucket[] = [...merged.values()]
      .sort((a, b) => a.day.localeCompare(b.day) || a.model.localeCompare(b.model))
      .map((r) => ({
        date: r.day,
        model: r.model,
        requests: r.requests,
        input_tokens: r.inputTokens,
        output_tokens: r.outputTokens,
        total_tokens: r.inputTokens + r.outputTokens,
        cost_coins: round6(r.costCoins),
      }));
    const total = data.reduce(
      (t, b) => ({
        requests: t.requests + b.requests,
        input_tokens: t.input_tokens + b.input_tokens,
        output_tokens: t.output_tokens + b.output_tokens,
        total_tokens: t.total_tokens + b.total_tokens,
        cost_coins: round6(t.cost_coins + b.cost_coins),
      }),
      { requests: 0, input_tokens: 0, output_tokens: 0, total_tokens: 0, cost_coins: 0 },
    );
    return { object: 'usage.summary', start_date: from, end_date: to, data, total };
  }
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

@Controller('v1/usage')
@UseGuards(AuthGuard)
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  /** `start_date` and `end_date` (YYYY-MM-DD, UTC, inclusive); the last 30 days by default. */
  @Get()
  get(@CurrentCaller() caller: Caller, @Query('start_date') start?: unknown, @Query('end_date') end?: unknown) {
    const to = end === undefined ? today() : parseDay(end, 'end_date');
    const from = start === undefined ? shift(to, -29) : parseDay(start, 'start_date');
    if (from > to) throw ApiError.badRequest("'start_date' must not be after 'end_date'.", 'start_date');
    if ((Date.parse(to) - Date.parse(from)) / DAY_MS + 1 > MAX_DAYS) throw ApiError.badRequest(`The range may span at most ${MAX_DAYS} days.`, 'start_date');
    return this.usage.summary(caller, from, to);
  }
}

function parseDay(v: unknown, param: string): string {
  // From 1970 (no call is older), so the default start, 29 days before, is still a YYYY-MM-DD.
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v) || v < '1970-01-01' || Number.isNaN(Date.parse(`${v}T00:00:00Z`)) || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) {
    throw ApiError.badRequest(`Invalid '${param}': expected a date as YYYY-MM-DD, from 1970-01-01.`, param, 'invalid_value');
  }
  return v;
}

const today = () => new Date().toISOString().slice(0, 10);
const shift = (day: string, days: number) => new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
