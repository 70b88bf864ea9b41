// Walks through the service with the official `openai` SDK against a running stack
// (`npm run local`): background create + poll, cancel a slow call, delete, list input items.
// BASE_URL (default http://127.0.0.1:3000/v1) and API_KEY (default the local dev key).
import OpenAI from 'openai';

const client = new OpenAI({
  baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:3000/v1',
  apiKey: process.env.API_KEY ?? 'sk-local-dev-key',
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function poll(id) {
  for (let i = 0; i < 300; i++) {
    const r = await client.responses.retrieve(id);
    if (!['queued', 'in_progress'].includes(r.status)) return r;
    await sleep(200);
  }
  throw new Error(`response ${id} did not finish in 60 s`);
}

const t0 = Date.now();
const created = await client.responses.create({
  model: 'gpt-4o-mini',
  input: 'Write a haiku about queues.',
  background: true,
});
console.log(`created ${created.id}: ${created.status} (${Date.now() - t0} ms)`);
const done = await poll(created.id);
console.log(
  `finished: ${done.status} in ${Date.now() - t0} ms; output_text: ${JSON.stringify(done.output_text)}; usage: ${JSON.stringify(done.usage)}`,
);

// A slow call (the mock upstream honours mock_latency_ms), cancelled while it runs.
const slow = await client.responses.create({
  model: 'gpt-4o-mini',
  input: 'A very long story.',
  background: true,
  metadata: { mock_latency_ms: '60000' },
});
await sleep(500);
const t1 = Date.now();
const cancelled = await client.responses.cancel(slow.id);
console.log(`cancelled ${slow.id}: ${cancelled.status} (${Date.now() - t1} ms)`);

const items = await client.responses.inputItems.list(created.id);
console.log(`input items of ${created.id}: ${JSON.stringify(items.data)}`);

await client.responses.delete(created.id);
const gone = await client.responses.retrieve(created.id).catch((e) => e);
console.log(`deleted ${created.id}; retrieve now answers ${gone.status}: ${gone.error?.message}`);
