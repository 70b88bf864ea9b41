import { z } from 'zod';
import { addProblem } from './common';

/** Form fields arrive as strings; an empty string (as OhMyGPT's own examples send) means absent. */
const field = z
  .union([z.string(), z.number()], { error: 'a string' })
  .nullish()
  .transform((v) => (v === undefined || v === null || v === '' ? undefined : String(v)))
  .pipe(z.string().max(256).optional());

function intField(name: string, def: number, min: number, max: number) {
  return field
    .superRefine((v, ctx) => {
      if (v === undefined) return;
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (!(Number.isInteger(n) && n >= min && n <= max)) {
        addProblem(ctx, `Invalid '${name}': expected an integer from ${min} to ${max}, got '${v}'.`);
      }
    })
    .transform((v) => (v === undefined ? def : Number(v)));
}

/** `models=a&models=b`, `models[]=a`, `models=a,b` or a JSON array. */
const modelList = z
  .union([z.string(), z.array(z.string().max(256))], { error: 'model names' })
  .nullish()
  .transform((v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : v.split(',')))
  .transform((v) => v.map((x) => x.trim()).filter(Boolean));

/** `sort` values: newest first by default (`-createdAt`, `desc`), or oldest first. */
export const SORT_NEWEST_FIRST: ReadonlyMap<string, boolean> = new Map([
  ['desc', true],
  ['-createdAt', true],
  ['asc', false],
  ['createdAt', false],
]);

const sort = field.superRefine((v, ctx) => {
  if (v !== undefined && !SORT_NEWEST_FIRST.has(v)) {
    addProblem(ctx, `Invalid 'sort': use one of ${[...SORT_NEWEST_FIRST.keys()].join(', ')}.`);
  }
});

/** The form of OhMyGPT's list-completions-data (form-urlencoded or JSON). */
export const ohMyGptListSchema = z.looseObject({
  page: intField('page', 1, 1, 1_000_000),
  pageSize: intField('pageSize', 20, 1, 100),
  sort: sort.transform((v) => SORT_NEWEST_FIRST.get(v ?? 'desc') ?? true),
  model: field,
  models: modelList,
  responseId: field,
  omgUrId: field,
});

/** get-completion-data and delete-completion-data name one record by responseId. */
export const ohMyGptRecordSchema = z.looseObject({ responseId: field }).superRefine((form, ctx) => {
  if (form.responseId === undefined) addProblem(ctx, "Missing required parameter: 'responseId'.", ['responseId']);
});

/** Absent bodies are empty forms; anything but fields or a JSON object is a 400. */
export const ohMyGptFormSchema = z.preprocess(
  (v) => (v === undefined || v === null ? {} : v),
  z.record(z.string(), z.unknown(), { error: 'form fields or a JSON object' }),
);
