import OpenAI from 'openai';
import { Webhook } from 'standardwebhooks';
import {
  eventBody,
  eventTypeOf,
  RETRY_CAP_MS,
  webhookAttempts,
  webhookIdOf,
  webhookRetryDelay,
  webhookUrlProblem,
} from './webhooks';

describe('webhook signing', () => {
  // The openai-node test vector (../shared/reference/openai-api.md §7).
  const secret = 'whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c=';
  const id = 'wh_685c059ae39c8190af8c71ed1022a24d';
  const ts = 1750861210;
  const body =
    '{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", "created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}}';

  it('standardwebhooks signs id.timestamp.body with HMAC-SHA256 of the whsec_ key: the SDK test vector', () => {
    expect(new Webhook(secret).sign(id, new Date(ts * 1000), body)).toBe(
      'v1,gUAg4R2hWouRZqRQG4uJypNS8YK885G838+EHb4nKBY=',
    );
  });

  it("the SDK's unwrap accepts our body with two signatures, either secret alone", async () => {
    const other = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const payload = eventBody({ eventId: 'evt_1', type: 'response.failed', createdAt: 1, subjectId: 'resp_1' });
    const at = new Date();
    const headers = {
      'webhook-id': webhookIdOf('evt_1', 'we_1'),
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': [secret, other].map((s) => new Webhook(s).sign('x', at, payload)).join(' '),
    };
    // Signed for another id: refused.
    const sdk = new OpenAI({ apiKey: 'x' });
    await expect(sdk.webhooks.unwrap(payload, headers, secret)).rejects.toThrow(/signature/);
    headers['webhook-signature'] = [secret, other]
      .map((s) => new Webhook(s).sign(headers['webhook-id'], at, payload))
      .join(' ');
    for (const s of [secret, other])
      expect(await sdk.webhooks.unwrap(payload, headers, s)).toEqual({
        object: 'event',
        id: 'evt_1',
        type: 'response.failed',
        created_at: 1,
        data: { id: 'resp_1' },
      });
  });

  it('webhook-id is stable per event and endpoint, and differs between endpoints', () => {
    expect(webhookIdOf('evt_a', 'we_1')).toBe(webhookIdOf('evt_a', 'we_1'));
    expect(webhookIdOf('evt_a', 'we_1')).not.toBe(webhookIdOf('evt_a', 'global'));
  });
});

describe('webhook events', () => {
  it('maps terminal statuses to event types per kind', () => {
    expect(eventTypeOf('response', 'incomplete')).toBe('response.incomplete');
    expect(eventTypeOf('response', 'cancelled')).toBe('response.cancelled');
    expect(eventTypeOf('chat.completion', 'failed')).toBe('chat.completion.failed');
    expect(eventTypeOf('chat.completion', 'incomplete')).toBe('chat.completion.completed');
    expect(eventTypeOf('response', 'in_progress')).toBeNull();
  });
});

describe('webhook URLs', () => {
  it.each([
    ['https://example.com/hook', null],
    ['http://127.0.0.1:8080/x', null],
    ['ftp://example.com/x', 'must be an http:// or https:// URL'],
    ['https://u:p@example.com/x', 'must not carry credentials'],
    ['https://u@example.com/x', 'must not carry credentials'],
    ['not a url', 'must be an absolute http:// or https:// URL'],
  ])('%s', (url, problem) => expect(webhookUrlProblem(url)).toBe(problem));
});

describe('webhook retries', () => {
  it('doubles from the base with ±20% jitter, capped at an hour', () => {
    expect(webhookRetryDelay(1, 1000, () => 0.5)).toBe(1000);
    expect(webhookRetryDelay(3, 1000, () => 0.5)).toBe(4000);
    expect(webhookRetryDelay(3, 1000, () => 0)).toBe(3200);
    expect(webhookRetryDelay(3, 1000, () => 1)).toBe(4800);
    expect(webhookRetryDelay(60, 1000, () => 0.5)).toBe(RETRY_CAP_MS);
  });

  it('makes as many attempts as fit in the window', () => {
    // 5 s base: 5+10+...+2560 s (10 waits, 5115 s) then hourly: 72 h holds 10 + 70 more waits.
    expect(webhookAttempts(5000, 72)).toBe(1 + 10 + 70);
    expect(webhookAttempts(3600_000, 1)).toBe(2);
  });
});
