import type { ResponseRecord } from './call';
import { toResponseObject } from './response-view';

function record(over: Partial<ResponseRecord> = {}): ResponseRecord {
  const created = new Date('2026-01-01T00:00:10.900Z');
  return {
    userId: 'u1',
    omgUrId: 'req_1',
    reqBodyHash: 'h',
    createdAt: created,
    updatedAt: created,
    responseId: 'resp_abc',
    commonData: {
      requestRawData: { model: 'gpt-x', input: 'hi', temperature: 0.2, instructions: 'be kind', custom_field: 1 },
      responseRawData: null,
      openAIStoredBody: null,
      userAgent: null,
      reqIp: null,
      usage: { input_text: 0, output_text: 0 },
      costCoins: 0,
    },
    metadata: null,
    status: 'queued',
    model: 'gpt-x',
    background: true,
    store: true,
    inputItems: [],
    output: [],
    usage: null,
    error: null,
    errorStatus: null,
    incompleteDetails: null,
    startedAt: null,
    completedAt: null,
    cancelledAt: null,
    route: 'default',
    upstreamCalls: 0,
    terminalWrites: 0,
    keyId: 'key_1',
    day: '2026-01-01',
    deletedAt: null,
    webhookEvent: null,
    webhookPending: false,
    previousResponseId: null,
    chain: [],
    conversationId: null,
    conversationAppendedAt: null,
    ...over,
  };
}

describe('toResponseObject', () => {
  it('shows a queued background response with OpenAI defaults and the request echo', () => {
    const r = toResponseObject(record());
    expect(r).toMatchObject({
      id: 'resp_abc',
      object: 'response',
      created_at: 1767225610,
      status: 'queued',
      background: true,
      output: [],
      usage: null,
      completed_at: null,
      metadata: {},
      instructions: 'be kind',
      temperature: 0.2,
      top_p: 1,
      tools: [],
      tool_choice: 'auto',
      parallel_tool_calls: true,
      store: true,
      model: 'gpt-x',
      error: null,
      incomplete_details: null,
    });
    expect(r).not.toHaveProperty('custom_field');
  });

  it('never shows queued for a foreground response', () => {
    expect(toResponseObject(record({ background: false })).status).toBe('in_progress');
  });

  it('takes the resolved model from the upstream and sets completed_at only when completed', () => {
    const done = record({
      status: 'completed',
      completedAt: new Date('2026-01-01T00:00:20Z'),
      commonData: { ...record().commonData, responseRawData: { model: 'gpt-x-2026' } },
    });
    expect(toResponseObject(done)).toMatchObject({ model: 'gpt-x-2026', completed_at: 1767225620 });
    expect(toResponseObject({ ...done, status: 'cancelled' }).completed_at).toBeNull();
  });
});
