/** Usage of one model on one day, as summed from the records. */
export interface UsageRow {
  day: string;
  model: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costCoins: number;
}

export interface UsageBucket {
  date: string;
  model: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost_coins: number;
}

type Total = Omit<UsageBucket, 'date' | 'model'>;

export interface UsageSummary {
  object: 'usage.summary';
  start_date: string;
  end_date: string;
  data: UsageBucket[];
  total: Total;
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/** Rows of several collections merged by day and model, in date then model order, with a total. */
export function usageSummary(rows: UsageRow[], from: string, to: string): UsageSummary {
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
  const total = data.reduce<Total>(
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
