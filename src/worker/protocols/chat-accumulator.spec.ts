import { ChatAccumulator } from './chat-accumulator';

describe('ChatAccumulator', () => {
  it('joins content, merges tool calls and keeps usage and the finish reason', () => {
    const acc = new ChatAccumulator();
    const base = { id: 'up-1', object: 'chat.completion.chunk', created: 1, model: 'm' };
    acc.add({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    acc.add({ ...base, choices: [{ index: 0, delta: { content: 'Hel' } }] });
    acc.add({ ...base, choices: [{ index: 0, delta: { content: 'lo' } }] });
    acc.add({
      ...base,
      choices: [
        {
          index: 1,
          delta: {
            role: 'assistant',
            tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get', arguments: '{"a"' } }],
          },
        },
      ],
    });
    acc.add({
      ...base,
      choices: [{ index: 1, delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] } }],
    });
    acc.add({
      ...base,
      choices: [
        { index: 0, delta: {}, finish_reason: 'stop' },
        { index: 1, delta: {}, finish_reason: 'tool_calls' },
      ],
    });
    acc.add({ ...base, choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
    expect(acc.completion()).toEqual({
      id: 'up-1',
      created: 1,
      model: 'm',
      object: 'chat.completion',
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello', refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: 'stop',
        },
        {
          index: 1,
          message: {
            role: 'assistant',
            content: null,
            refusal: null,
            annotations: [],
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get', arguments: '{"a":1}' } }],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
    });
  });
});
