/** Coins per one million tokens, by model (exact name, or the longest matching name prefix). */
export type PriceTable = Record<string, { input: number; output: number }>;

export function parsePriceTable(raw: string | undefined, problems: string[]): PriceTable {
  if (!raw || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push('PRICE_TABLE must be JSON like {"gpt-4o-mini":{"input":150,"output":600}} (coins per million tokens)');
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push('PRICE_TABLE must be a JSON object of model -> {input, output}');
    return {};
  }
  const table: PriceTable = {};
  for (const [model, price] of Object.entries(parsed)) {
    const p = price as { input?: unknown; output?: unknown };
    const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
    if (!ok(p?.input) || !ok(p?.output)) {
      problems.push(`PRICE_TABLE["${model}"] must be {"input": <coins>, "output": <coins>} with numbers >= 0`);
      continue;
    }
    table[model] = { input: p.input as number, output: p.output as number };
  }
  return table;
}

/** The price entry for a model: an exact match, else the longest prefix (dated model versions). */
export function priceFor(table: PriceTable, model: string): { input: number; output: number } | null {
  if (table[model]) return table[model];
  let best: string | null = null;
  for (const name of Object.keys(table)) {
    if (model.startsWith(name) && (best === null || name.length > best.length)) best = name;
  }
  return best === null ? null : table[best];
}

/** Coins for a call, rounded to 6 decimals; null when the model has no price. */
export function costCoins(table: PriceTable, model: string, inputTokens: number, outputTokens: number): number | null {
  const price = priceFor(table, model);
  if (!price) return null;
  return Math.round(((inputTokens * price.input + outputTokens * price.output) / 1_000_000) * 1e6) / 1e6;
}
