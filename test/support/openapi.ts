import Ajv2020 from 'ajv/dist/2020';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** OpenAI's own OpenAPI spec (../shared/reference), to check that our answers have the shapes it declares. */
const SPEC = join(__dirname, '..', '..', '..', 'shared', 'reference', 'openapi', 'openapi.json');

let ajv: Ajv2020 | null = null;

/** Validates `value` against `components.schemas[name]`; returns the errors (none means it conforms). */
export function specErrors(name: string, value: unknown): string[] {
  if (!ajv) {
    const spec = JSON.parse(readFileSync(SPEC, 'utf8')) as { components: unknown };
    // OpenAPI adds keywords of its own (discriminator, x-*) and formats JSON Schema does not know: not checked.
    ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ $id: 'openai', components: spec.components });
  }
  const validate = ajv.getSchema(`openai#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name} in the spec`);
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
