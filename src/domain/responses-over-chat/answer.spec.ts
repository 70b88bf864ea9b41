import { responseFromChat, usageFromChat } from './answer';
import type { JsonObject } from './types';

function ids(): (prefix: string) => string {
  let n = 0;
  return (prefix) => `${prefix}${++n}`;
}

function completion(message: JsonObject, finishReason = 'stop', extra: JsonObject = {}): JsonObject {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'up-model-2026',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason, logprobs: null }],
    ...extra,
  };
}

describe('responseFromChat', () => {
  it('maps text content to one completed message item', () => {
    const result = responseFromChat(completion({ content: 'Hello' }), ids());
    expect(result).toEqual({
      status: 'completed',
      output: [
        {
          type: 'message',
          id: 'msg_1',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Hello', annotations: [], logprobs: [] }],
        },
      ],
      incompleteDetails: null,
      usage: null,
      model: 'up-model-2026',
    });
  });

  it('puts each tool call after the message as a function_call item', () => {
    const message = {
      content: 'Checking.',
      tool_calls: [
        { id: 'call_a', type: 'function', function: { name: 'w', arguments: '{"c":"A"}' } },
        { id: 'call_b', type: 'function', function: { name: 'w', arguments: '{"c":"B"}' } },
      ],
    };
    const { output, status } = responseFromChat(completion(message, 'tool_calls'), ids());
    expect(status).toBe('completed');
    expect(output.map((item) => item.type)).toEqual(['message', 'function_call', 'function_call']);
    expect(output[1]).toEqual({
      type: 'function_call',
      id: 'fc_2',
      call_id: 'call_a',
      name: 'w',
      arguments: '{"c":"A"}',
      status: 'completed',
    });
    expect(output[2]).toMatchObject({ id: 'fc_3', call_id: 'call_b', arguments: '{"c":"B"}' });
  });

  it('gives no message item for null or empty content', () => {
    const calls = { tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}' } }] };
    expect(responseFromChat(completion({ content: null, ...calls }, 'tool_calls'), ids()).output).toEqual([
      { type: 'function_call', id: 'fc_1', call_id: 'call_a', name: 'f', arguments: '{}', status: 'completed' },
    ]);
    expect(responseFromChat(completion({ content: '' }), ids()).output).toEqual([]);
  });

  it('maps a refusal to a refusal part', () => {
    const { output } = responseFromChat(completion({ content: null, refusal: 'I cannot.' }), ids());
    expect(output).toEqual([
      {
        type: 'message',
        id: 'msg_1',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'refusal', refusal: 'I cannot.' }],
      },
    ]);
  });

  it.each([
    ['length', 'max_output_tokens'],
    ['content_filter', 'content_filter'],
  ])('finish_reason %s makes the response and its items incomplete (%s)', (finishReason, reason) => {
    const cut = { id: 'c', type: 'function', function: { name: 'f', arguments: '{"a' } };
    const message = { content: 'Hel', tool_calls: [cut] };
    const result = responseFromChat(completion(message, finishReason), ids());
    expect(result.status).toBe('incomplete');
    expect(result.incompleteDetails).toEqual({ reason });
    expect(result.output.map((item) => item.status)).toEqual(['incomplete', 'incomplete']);
  });

  it('reads usage and the reported model', () => {
    const usage = {
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 2 },
    };
    const result = responseFromChat(completion({ content: 'x' }, 'stop', { usage }), ids());
    expect(result.usage).toEqual({
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 4, cache_write_tokens: 0 },
      output_tokens: 5,
      output_tokens_details: { reasoning_tokens: 2 },
      total_tokens: 15,
    });
    expect(responseFromChat({ choices: [] }, ids())).toEqual({
      status: 'completed',
      output: [],
      incompleteDetails: null,
      usage: null,
      model: null,
    });
  });

  it('uses only choice index 0 and mints a call id when the upstream gave none', () => {
    const choices = [
      { index: 1, message: { role: 'assistant', content: 'other' }, finish_reason: 'stop' },
      { index: 0, message: { tool_calls: [{ type: 'function', function: { name: 'f', arguments: '' } }] } },
    ];
    const { output } = responseFromChat({ choices }, ids());
    expect(output).toEqual([
      { type: 'function_call', id: 'fc_1', call_id: 'call_2', name: 'f', arguments: '', status: 'completed' },
    ]);
  });

  it('carries token logprobs when the upstream sent them', () => {
    const chat = completion({ content: 'Hi' });
    (chat.choices as JsonObject[])[0].logprobs = {
      content: [
        { token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [{ token: 'Hi', logprob: -0.1, bytes: null }] },
      ],
    };
    const part = (responseFromChat(chat, ids()).output[0].content as JsonObject[])[0];
    expect(part.logprobs).toEqual([
      { token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [{ token: 'Hi', logprob: -0.1, bytes: [] }] },
    ]);
  });
});

describe('usageFromChat', () => {
  it('is null without usage', () => {
    expect(usageFromChat(undefined)).toBeNull();
    expect(usageFromChat(null)).toBeNull();
  });

  it('fills missing counts with zero and sums the total', () => {
    const usage = { prompt_tokens: 3, completion_tokens: 4, prompt_tokens_details: { cache_write_tokens: 1 } };
    expect(usageFromChat(usage)).toEqual({
      input_tokens: 3,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 1 },
      output_tokens: 4,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 7,
    });
  });
});
