import { z } from 'zod';
import { createChatSchema } from '../domain/requests/chat.request';
import { createKeySchema, keyListQuerySchema, updateKeySchema } from '../domain/requests/keys.request';
import { ohMyGptListSchema, ohMyGptRecordSchema } from '../domain/requests/ohmygpt.request';
import { usageQuerySchema } from '../domain/requests/usage.request';

const OPENAI_REFERENCE = 'https://platform.openai.com/docs/api-reference';

/**
 * A request schema as JSON Schema (zod 4's own converter); refinements stay in the code. The input side, except for a
 * schema that checks field names first and then pipes into the fields (the admin keys'): its output side names them.
 */
function schemaOf(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  try {
    const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
    delete json.$schema;
    return json;
  } catch {
    return { type: 'object' };
  }
}

/** Query parameters from an object schema's properties. */
function queryOf(schema: z.ZodType): Record<string, unknown>[] {
  const props = (schemaOf(schema).properties ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(props).map(([name, s]) => ({ name, in: 'query', required: false, schema: s }));
}

const error = { $ref: '#/components/schemas/Error' };
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const answers = (ok: string, extra: Record<string, string> = {}) => ({
  200: { description: ok },
  ...Object.fromEntries(Object.entries(extra).map(([s, d]) => [s, { description: d, ...json(error) }])),
});
const idParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const adminAuth = [{ admin: [] }];
const keyAuth = [{ apiKey: [] }];

/** An OpenAI-compatible route: described by OpenAI's own reference, not again here. */
const compatible = (summary: string, anchor: string) => ({
  summary,
  description: `OpenAI-compatible: see ${OPENAI_REFERENCE}/${anchor}. Differences are listed in the README.`,
  externalDocs: { url: `${OPENAI_REFERENCE}/${anchor}` },
  security: keyAuth,
  responses: answers('As OpenAI answers.'),
});

/**
 * The OpenAPI document of our own endpoints: the admin keys API, usage, background chat completions and their
 * cancel, OhMyGPT's routes, the models list and the operations endpoints. Request bodies come from the same zod
 * schemas that validate them.
 */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'durable-openai-jobs',
      version: '0.1.0',
      description:
        'Our own endpoints. The OpenAI-compatible ones (responses, chat completions, conversations, models) follow ' +
        `OpenAI's API reference: ${OPENAI_REFERENCE}.`,
    },
    externalDocs: { description: "OpenAI's API reference", url: OPENAI_REFERENCE },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (API_KEYS or the admin API).' },
        admin: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN.' },
        metrics: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN (or ADMIN_TOKEN), when set.' },
      },
      schemas: {
        Error: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              properties: {
                message: { type: 'string' },
                type: { type: 'string' },
                param: { type: ['string', 'null'] },
                code: { type: ['string', 'null'] },
              },
            },
          },
        },
        KeyFields: schemaOf(updateKeySchema, 'output'),
        NewKey: { ...schemaOf(createKeySchema, 'output'), required: ['user_id'] },
        OhMyGptList: schemaOf(ohMyGptListSchema),
        OhMyGptRecord: schemaOf(ohMyGptRecordSchema),
        ChatCompletionCreate: schemaOf(createChatSchema),
      },
    },
    paths: {
      '/admin/keys': {
        post: {
          summary: 'Create an API key (its secret is answered once).',
          security: adminAuth,
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/NewKey' }) },
          responses: answers('The key, with its secret.', { 400: 'Invalid fields.', 401: 'Wrong admin token.' }),
        },
        get: {
          summary: "List keys (a user's, with user_id).",
          security: adminAuth,
          parameters: queryOf(keyListQuerySchema),
          responses: answers('The keys, without secrets.', { 401: 'Wrong admin token.' }),
        },
      },
      '/admin/keys/{id}': {
        post: {
          summary: "Change a key's name, tier, limits or enabled flag.",
          security: adminAuth,
          parameters: [idParam('id')],
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/KeyFields' }) },
          responses: answers('The key.', { 404: 'No such key.' }),
        },
        delete: {
          summary: 'Revoke a key.',
          security: adminAuth,
          parameters: [idParam('id')],
          responses: answers('Revoked.', { 404: 'No such key.' }),
        },
      },
      '/v1/usage': {
        get: {
          summary: "The caller's usage and cost by day and model.",
          security: keyAuth,
          parameters: queryOf(usageQuerySchema),
          responses: answers('Usage buckets.', { 400: 'Invalid range.' }),
        },
      },
      '/v1/chat/completions': {
        post: {
          ...compatible(
            'Create a chat completion; `background: true` (ours) answers at once with a queued one.',
            'chat/create',
          ),
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/ChatCompletionCreate' }) },
        },
      },
      '/v1/chat/completions/{id}/cancel': {
        post: {
          summary: 'Cancel a background chat completion (ours): queued or running, it ends as cancelled.',
          security: keyAuth,
          parameters: [idParam('id')],
          responses: answers('The chat completion, cancelled.', {
            404: 'Not found (or not yours).',
            409: 'Already finished.',
          }),
        },
      },
      '/v1/responses': { post: compatible('Create a response.', 'responses/create') },
      '/v1/models': { get: compatible('List the models the routes serve.', 'models/list') },
      '/api/v1/ai/openai/v1/chat/list-completions-data': {
        post: {
          summary: "OhMyGPT: list the caller's stored calls (form or JSON body).",
          security: keyAuth,
          requestBody: { required: false, ...json({ $ref: '#/components/schemas/OhMyGptList' }) },
          responses: { 200: { description: '{statusCode, message, data}' } },
        },
      },
      '/api/v1/ai/openai/v1/chat/get-completion-data': {
        post: {
          summary: 'OhMyGPT: one stored call by responseId.',
          security: keyAuth,
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/OhMyGptRecord' }) },
          responses: { 200: { description: '{statusCode, message, data}' } },
        },
      },
      '/api/v1/ai/openai/v1/chat/delete-completion-data': {
        post: {
          summary: 'OhMyGPT: delete one stored call by responseId.',
          security: keyAuth,
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/OhMyGptRecord' }) },
          responses: { 200: { description: '{statusCode, message, data}' } },
        },
      },
      '/health/live': { get: { summary: 'Liveness: the process is up.', responses: answers('{status: ok}') } },
      '/health/ready': {
        get: {
          summary:
            'Readiness: Redis and MongoDB answer and a worker beat within WORKER_HEARTBEAT_S × 3 (also /health).',
          responses: {
            200: { description: '{status, checks}' },
            503: { description: '{status, checks, error}: the failed checks.' },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text exposition format).',
          security: [{ metrics: [] }, {}],
          responses: answers('Metrics.', { 401: 'METRICS_TOKEN is set and was not given.' }),
        },
      },
      '/admin/queues': {
        get: {
          summary: 'Bull Board, the queue dashboard (ADMIN_TOKEN as Bearer or as the basic-auth password).',
          security: adminAuth,
          responses: { 200: { description: 'HTML.' }, 401: { description: 'No or wrong admin token.' } },
        },
      },
    },
  };
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * /docs: a static page rendered here from the document (no renderer to download: the service may run offline).
 * Every path and method with its summary; request schemas in full.
 */
export function docsPage(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Record<string, Record<string, unknown>>>;
  const schemas = ((doc.components as Record<string, unknown>).schemas ?? {}) as Record<string, unknown>;
  const rows = Object.entries(paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => {
      const more = op.externalDocs as { url: string } | undefined;
      const link = more ? ` <a href="${escape(more.url)}">OpenAI reference</a>` : '';
      return `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escape(path)}</code></td><td>${escape(String(op.summary ?? ''))}${link}</td></tr>`;
    }),
  );
  const blocks = Object.entries(schemas).map(
    ([name, s]) => `<h3 id="${escape(name)}">${escape(name)}</h3><pre>${escape(JSON.stringify(s, null, 2))}</pre>`,
  );
  const info = doc.info as { title: string; description: string };
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(info.title)} API</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}td{padding:.3em .8em;border-bottom:1px solid #ddd;vertical-align:top}pre{background:#f6f6f6;padding:1em;overflow:auto}</style>
</head><body><h1>${escape(info.title)}</h1><p>${escape(info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<table>${rows.join('\n')}</table><h2>Request schemas</h2>${blocks.join('\n')}</body></html>`;
}
