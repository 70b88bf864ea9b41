import { toInputItems } from './input-items';

describe('toInputItems', () => {
  it('turns a string into one user message with one input_text part', () => {
    const [item, ...rest] = toInputItems('hello');
    expect(rest).toEqual([]);
    expect(item).toEqual({
      id: expect.stringMatching(/^msg_[0-9a-f]{48}$/),
      type: 'message',
      role: 'user',
      content: [{ type: 'input_text', text: 'hello' }],
    });
  });

  it('normalises easy messages and keeps given ids and other item types', () => {
    const items = toInputItems([
      { role: 'developer', content: 'be brief' },
      { role: 'assistant', content: 'earlier answer' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'q' }], id: 'msg_given' },
      { type: 'function_call_output', call_id: 'call_1', output: '42' },
    ]);
    expect(items[0]).toMatchObject({
      type: 'message',
      role: 'developer',
      content: [{ type: 'input_text', text: 'be brief' }],
    });
    expect(items[1]).toMatchObject({ role: 'assistant', content: [{ type: 'output_text', text: 'earlier answer' }] });
    expect(items[2].id).toBe('msg_given');
    expect(items[3]).toMatchObject({
      type: 'function_call_output',
      call_id: 'call_1',
      id: expect.stringMatching(/^fco_/),
    });
    expect(new Set(items.map((i) => i.id)).size).toBe(4);
  });

  it('gives nothing for an absent input', () => {
    expect(toInputItems(undefined)).toEqual([]);
  });
});
