import { chatRequestFor, unsupportedOverChat } from './request';
import type { JsonObject } from './types';

const messagesOf = (request: JsonObject, context: JsonObject[] = []): unknown =>
  chatRequestFor({ model: 'm', ...request }, context).messages;
const call = (callId: string, name: string, args: string): JsonObject => ({
  type: 'function_call',
  call_id: callId,
  name,
  arguments: args,
});
const chatCall = (id: string, name: string, args: string): JsonObject => ({
  id,
  type: 'function',
  function: { name, arguments: args },
});
const user = (...content: JsonObject[]): JsonObject => ({ type: 'message', role: 'user', content });
const outputText = (text: string): JsonObject => ({ type: 'output_text', text, annotations: [], logprobs: [] });

describe('chatRequestFor: messages', () => {
  it.each<[string, JsonObject, unknown]>([
    ['a string input is one user message', { input: 'hi' }, [{ role: 'user', content: 'hi' }]],
    [
      'instructions lead as a system message',
      { instructions: 'be brief', input: 'hi' },
      [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
    ],
    ['empty instructions add nothing', { instructions: '', input: 'hi' }, [{ role: 'user', content: 'hi' }]],
    [
      'easy messages keep every role, developer included',
      { input: ['system', 'developer', 'user', 'assistant'].map((role) => ({ role, content: role[0] })) },
      ['system', 'developer', 'user', 'assistant'].map((role) => ({ role, content: role[0] })),
    ],
    [
      'input_text and input_image parts become text and image_url parts',
      {
        input: [
          user(
            { type: 'input_text', text: 'look' },
            { type: 'input_image', image_url: 'https://x/y.png', detail: 'low' },
            { type: 'input_image', image_url: 'data:image/png;base64,AA==' },
          ),
        ],
      },
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } },
          ],
        },
      ],
    ],
    [
      'input_file with an id or data becomes a file part',
      { input: [user({ type: 'input_file', file_id: 'file-1', filename: 'a.pdf' })] },
      [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1', filename: 'a.pdf' } }] }],
    ],
    [
      'a prompt cache breakpoint stays on its part',
      { input: [user({ type: 'input_text', text: 't', prompt_cache_breakpoint: { mode: 'explicit' } })] },
      [{ role: 'user', content: [{ type: 'text', text: 't', prompt_cache_breakpoint: { mode: 'explicit' } }] }],
    ],
    [
      'an echoed assistant output message becomes string content',
      {
        input: [
          {
            type: 'message',
            id: 'msg_1',
            status: 'completed',
            role: 'assistant',
            content: [outputText('Hel'), { type: 'output_text', text: 'lo', annotations: [] }],
          },
        ],
      },
      [{ role: 'assistant', content: 'Hello' }],
    ],
    [
      'an assistant refusal part becomes the refusal field',
      { input: [{ role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }] }] },
      [{ role: 'assistant', content: '', refusal: 'no' }],
    ],
    [
      'consecutive function calls share one assistant message',
      {
        input: [
          { role: 'user', content: 'weather?' },
          { ...call('call_a', 'w', '{"c":"A"}'), id: 'fc_1', status: 'completed' },
          call('call_b', 'w', '{"c":"B"}'),
          { type: 'function_call_output', call_id: 'call_a', output: 'sunny' },
          { type: 'function_call_output', call_id: 'call_b', output: 'rain' },
        ],
      },
      [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [chatCall('call_a', 'w', '{"c":"A"}'), chatCall('call_b', 'w', '{"c":"B"}')],
        },
        { role: 'tool', tool_call_id: 'call_a', content: 'sunny' },
        { role: 'tool', tool_call_id: 'call_b', content: 'rain' },
      ],
    ],
    [
      'an assistant text message directly before calls carries them',
      {
        input: [
          { type: 'message', role: 'assistant', content: [outputText('Checking.')] },
          { type: 'reasoning', id: 'rs_1', summary: [] },
          call('call_a', 'w', '{}'),
        ],
      },
      [{ role: 'assistant', content: 'Checking.', tool_calls: [chatCall('call_a', 'w', '{}')] }],
    ],
    [
      'calls after a tool result start a new assistant message',
      {
        input: [
          call('c1', 'f', '{}'),
          { type: 'function_call_output', call_id: 'c1', output: 'x' },
          call('c2', 'f', '{}'),
        ],
      },
      [
        { role: 'assistant', content: null, tool_calls: [chatCall('c1', 'f', '{}')] },
        { role: 'tool', tool_call_id: 'c1', content: 'x' },
        { role: 'assistant', content: null, tool_calls: [chatCall('c2', 'f', '{}')] },
      ],
    ],
    [
      'function_call_output content parts are joined into text',
      {
        input: [
          {
            type: 'function_call_output',
            call_id: 'c1',
            output: [
              { type: 'input_text', text: 'part 1, ' },
              { type: 'input_text', text: 'part 2' },
            ],
          },
        ],
      },
      [{ role: 'tool', tool_call_id: 'c1', content: 'part 1, part 2' }],
    ],
    [
      'reasoning items are dropped',
      {
        input: [
          { type: 'reasoning', summary: [], encrypted_content: 'e' },
          { role: 'user', content: 'q' },
        ],
      },
      [{ role: 'user', content: 'q' }],
    ],
  ])('%s', (_name, request, expected) => {
    expect(messagesOf(request)).toEqual(expected);
  });

  it('puts context after the instructions and before this turn', () => {
    const context = [
      user({ type: 'input_text', text: 'first' }),
      { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [outputText('one')] },
    ];
    expect(messagesOf({ instructions: 'sys', input: 'second' }, context)).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: [{ type: 'text', text: 'first' }] },
      { role: 'assistant', content: 'one' },
      { role: 'user', content: 'second' },
    ]);
  });
});

describe('chatRequestFor: parameters', () => {
  const body = (request: JsonObject): JsonObject => {
    const { messages: _messages, ...rest } = chatRequestFor({ model: 'm', input: 'hi', ...request }, []);
    return rest;
  };
  const same = {
    parallel_tool_calls: false,
    temperature: 0.2,
    top_p: 0.9,
    user: 'u',
    safety_identifier: 's',
    prompt_cache_key: 'k',
    service_tier: 'flex',
  };
  const ours = {
    background: true,
    store: true,
    stream: true,
    stream_options: { include_obfuscation: false },
    include: ['reasoning.encrypted_content'],
    truncation: 'auto',
    previous_response_id: 'resp_1',
    conversation: 'conv_1',
    max_tool_calls: 3,
    context_management: [{ type: 'compaction' }],
  };
  const schema = { type: 'json_schema', name: 'p', schema: { type: 'object' }, strict: true, description: 'd' };

  it.each<[string, JsonObject, JsonObject]>([
    ['same-name sampling and identity fields pass through', same, { model: 'm', ...same }],
    ['unknown fields are copied as they are', { seed: 7, x_v: { a: null } }, { model: 'm', seed: 7, x_v: { a: null } }],
    ['our own and stateful fields are not copied', ours, { model: 'm' }],
    ['metadata is copied (chat takes it too)', { metadata: { a: '1' } }, { model: 'm', metadata: { a: '1' } }],
    ['nulls of same-name fields are left out', { temperature: null, top_p: null, user: null }, { model: 'm' }],
    ['max_output_tokens is renamed', { max_output_tokens: 64 }, { model: 'm', max_completion_tokens: 64 }],
    ['reasoning.effort is reasoning_effort', { reasoning: { effort: 'low' } }, { model: 'm', reasoning_effort: 'low' }],
    ['top_logprobs turns logprobs on', { top_logprobs: 3 }, { model: 'm', logprobs: true, top_logprobs: 3 }],
    ['text.verbosity becomes verbosity', { text: { verbosity: 'low' } }, { model: 'm', verbosity: 'low' }],
    ['text.format text is the default and omitted', { text: { format: { type: 'text' } } }, { model: 'm' }],
    [
      'text.format json_object',
      { text: { format: { type: 'json_object' } } },
      { model: 'm', response_format: { type: 'json_object' } },
    ],
    [
      'text.format json_schema',
      { text: { format: schema } },
      {
        model: 'm',
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'p', schema: { type: 'object' }, strict: true, description: 'd' },
        },
      },
    ],
    [
      'function tools take the chat shape',
      {
        tools: [
          { type: 'function', name: 'w', description: 'weather', parameters: { type: 'object' }, strict: true },
          { type: 'function', name: 'bare', strict: null },
        ],
      },
      {
        model: 'm',
        tools: [
          {
            type: 'function',
            function: { name: 'w', description: 'weather', parameters: { type: 'object' }, strict: true },
          },
          { type: 'function', function: { name: 'bare' } },
        ],
      },
    ],
    ['tool_choice strings are kept', { tool_choice: 'required' }, { model: 'm', tool_choice: 'required' }],
    ['tool_choice none is kept', { tool_choice: 'none' }, { model: 'm', tool_choice: 'none' }],
    [
      'a named function tool_choice takes the chat shape',
      { tool_choice: { type: 'function', name: 'w' } },
      { model: 'm', tool_choice: { type: 'function', function: { name: 'w' } } },
    ],
  ])('%s', (_name, request, expected) => {
    expect(body(request)).toEqual(expected);
  });

  it('never sets stream itself', () => {
    expect(chatRequestFor({ model: 'm', input: 'hi', stream: true }, [])).not.toHaveProperty('stream');
  });
});

describe('unsupportedOverChat', () => {
  it('accepts what chat can express', () => {
    const input = [
      user({ type: 'input_text', text: 'a' }, { type: 'input_image', image_url: 'https://x', detail: 'auto' }),
      { type: 'reasoning', id: 'rs_1', summary: [] },
      call('c', 'f', '{}'),
      { type: 'function_call_output', call_id: 'c', output: [{ type: 'input_text', text: 'ok' }] },
    ];
    const tools = [{ type: 'function', name: 'f', parameters: {} }];
    expect(unsupportedOverChat({ model: 'm', input, tools, tool_choice: { type: 'function', name: 'f' } })).toBeNull();
  });

  it.each([
    'web_search',
    'web_search_preview',
    'file_search',
    'code_interpreter',
    'computer_use_preview',
    'computer_use',
    'mcp',
    'image_generation',
    'local_shell',
    'shell',
    'custom',
  ])('refuses the hosted tool %s naming tools', (type) => {
    const problem = unsupportedOverChat({ model: 'm', input: 'x', tools: [{ type: 'function', name: 'f' }, { type }] });
    expect(problem).toEqual({ param: 'tools', message: expect.stringContaining(`'${type}'`) });
  });

  const imageOutput = { type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', image_url: 'u' }] };
  it.each<[string, JsonObject, string]>([
    ['item_reference', { input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input'],
    ['other item types', { input: [{ type: 'computer_call_output', call_id: 'c', output: {} }] }, 'input'],
    ['file_id images', { input: [user({ type: 'input_image', file_id: 'file-1', detail: 'auto' })] }, 'input'],
    ['file_url files', { input: [user({ type: 'input_file', file_url: 'https://x/a.pdf' })] }, 'input'],
    ['unknown content parts', { input: [user({ type: 'input_audio', input_audio: {} })] }, 'input'],
    ['images in a function output', { input: [imageOutput] }, 'input'],
    ['allowed_tools tool_choice', { tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [] } }, 'tool_choice'],
    ['hosted tool_choice', { tool_choice: { type: 'file_search' } }, 'tool_choice'],
    ['mcp tool_choice', { tool_choice: { type: 'mcp', server_label: 's' } }, 'tool_choice'],
    ['prompt templates', { prompt: { id: 'pmpt_1' } }, 'prompt'],
  ])('refuses %s', (_name, request, param) => {
    const problem = unsupportedOverChat({ model: 'm', input: 'x', ...request });
    expect(problem?.param).toBe(param);
    expect(problem?.message).toEqual(expect.any(String));
  });

  it('names the offending input position', () => {
    const input = [
      { role: 'user', content: 'a' },
      { type: 'item_reference', id: 'x' },
    ];
    expect(unsupportedOverChat({ model: 'm', input })?.message).toMatch(/^input\[1\]: item_reference/);
  });
});
