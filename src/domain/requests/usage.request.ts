import { z } from 'zod';
import { addProblem } from './common';

export const MAX_USAGE_DAYS = 366;
const DAY_MS = 86_400_000;

/** A UTC day as YYYY-MM-DD, from 1970 (no call is older, so the default start 29 days before is still one). */
const day = (param: string) =>
  z.unknown().superRefine((v, ctx) => {
    const ok =
      typeof v === 'string' &&
      /^\d{4}-\d{2}-\d{2}$/.test(v) &&
      v >= '1970-01-01' &&
      !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) &&
      new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) === v;
    if (!ok)
      addProblem(ctx, `Invalid '${param}': expected a date as YYYY-MM-DD, from 1970-01-01.`, [], {
        code: 'invalid_value',
      });
  });

export const shiftDay = (d: string, days: number): string =>
  new Date(Date.parse(`${d}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

/** `start_date` and `end_date` (inclusive); the last 30 days by default, at most MAX_USAGE_DAYS. */
export const usageQuerySchema = z
  .looseObject({ start_date: day('start_date').optional(), end_date: day('end_date').optional() })
  .transform((q) => {
    const to = (q.end_date as string | undefined) ?? new Date().toISOString().slice(0, 10);
    const from = (q.start_date as string | undefined) ?? shiftDay(to, -29);
    return { from, to };
  })
  .superRefine(({ from, to }, ctx) => {
    if (from > to) return addProblem(ctx, "'start_date' must not be after 'end_date'.", ['start_date']);
    if ((Date.parse(to) - Date.parse(from)) / DAY_MS + 1 > MAX_USAGE_DAYS) {
      addProblem(ctx, `The range may span at most ${MAX_USAGE_DAYS} days.`, ['start_date']);
    }
  });
