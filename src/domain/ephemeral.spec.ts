import { chatRecord } from '../../test/support/fakes';
import { applyChanges, isEphemeral, resultOf, revive, tombstoneOf, withResult } from './ephemeral';

describe('calls that keep nothing', () => {
  it('are the synchronous store: false calls outside a conversation', () => {
    expect(isEphemeral({ store: false, background: false })).toBe(true);
    expect(isEphemeral({ store: true, background: false })).toBe(false);
    expect(isEphemeral({ store: false, background: true })).toBe(false);
    expect(isEphemeral({ store: false, background: false, conversationId: 'conv_1' })).toBe(false);
  });

  it('apply a $set in memory, dotted paths included, without touching the original', () => {
    const r = chatRecord({ status: 'in_progress' });
    const usage = { input_text: 3, output_text: 4 };
    const done = applyChanges(r, { status: 'completed', 'commonData.usage': usage, 'commonData.costCoins': 7 });
    expect(done.status).toBe('completed');
    expect(done.commonData.usage).toEqual(usage);
    expect(done.commonData.costCoins).toBe(7);
    expect(done.commonData.requestRawData).toEqual(r.commonData.requestRawData);
    expect(r.status).toBe('in_progress');
    expect(r.commonData.costCoins).toBe(0);
  });

  it('hand back a result without the request, and the api puts its own copy back', () => {
    const r = chatRecord({ status: 'completed', completedAt: new Date('2026-01-01T00:00:05Z') });
    r.commonData.requestRawData = { messages: [{ role: 'user', content: 'secret prompt' }] };
    const wire = JSON.parse(JSON.stringify(resultOf(r))) as Record<string, unknown>;
    expect(JSON.stringify(wire)).not.toContain('secret prompt');
    const back = withResult(r, wire);
    expect(back.commonData.requestRawData).toEqual(r.commonData.requestRawData);
    expect(back.completedAt).toEqual(r.completedAt);
    expect(back.createdAt).toBeInstanceOf(Date);
    expect(revive(wire).createdAt).toEqual(r.createdAt);
  });

  it('leave a tombstone with usage and no content', () => {
    const r = chatRecord({ status: 'completed', metadata: { a: 'b' } });
    r.commonData.openAIStoredBody = { choices: [] };
    r.commonData.usage = { input_text: 1, output_text: 2 };
    const t = tombstoneOf(r, { output: [] });
    expect(t.deletedAt).toBeInstanceOf(Date);
    expect(t.metadata).toBeNull();
    expect(t.commonData.requestRawData).toEqual({});
    expect(t.commonData.openAIStoredBody).toBeNull();
    expect(t.commonData.usage).toEqual({ input_text: 1, output_text: 2 });
    expect(t).toHaveProperty('output', []);
  });
});
