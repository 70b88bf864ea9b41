/** Coins per one million tokens of one model. */
export interface Price {
  input: number;
  output: number;
}

/**
 * Prices by model name: an exact name, or the longest name that prefixes the model (dated versions). A Map, because
 * the model comes from the request or the upstream and must never find `toString` or `__proto__`.
 */
export type PriceTable = ReadonlyMap<string, Price>;

export function priceFor(table: PriceTable, model: string): Price | null {
  const exact = table.get(model);
  if (exact) return exact;
  let best: string | null = null;
  for (const name of table.keys()) {
    if (model.startsWith(name) && (best === null || name.length > best.length)) best = name;
  }
  return best === null ? null : table.get(best)!;
}

/** Coins for a call, rounded to 6 decimals; null when the model has no price. Always a finite number otherwise. */
export function costCoins(table: PriceTable, model: string, inputTokens: number, outputTokens: number): number | null {
  const price = priceFor(table, model);
  if (!price) return null;
  const coins = Math.round(((inputTokens * price.input + outputTokens * price.output) / 1_000_000) * 1e6) / 1e6;
  return Number.isFinite(coins) ? coins : 0;
}
