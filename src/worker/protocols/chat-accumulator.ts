/**
 * Rebuilds a ChatCompletion from its stream of chunks, so a streamed completion is stored whole:
 * per choice, content and refusal text joined, tool-call deltas merged by index, the last
 * finish_reason; usage from the usage chunk.
 */
interface ToolCallAcc {
  id?: string;
  type?: string;
  function: { name: string; arguments: string };
}

interface ChoiceAcc {
  index: number;
  role: string;
  content: string | null;
  refusal: string | null;
  toolCalls: ToolCallAcc[];
  finishReason: string | null;
  logprobs: unknown;
}

export class ChatAccumulator {
  private readonly choices = new Map<number, ChoiceAcc>();
  private head: Record<string, unknown> = {};
  private usage: unknown = null;

  add(chunk: Record<string, unknown>): void {
    if (!this.head.id) this.head = { id: chunk.id, created: chunk.created, model: chunk.model };
    if (chunk.service_tier !== undefined) this.head.service_tier = chunk.service_tier;
    if (chunk.system_fingerprint !== undefined) this.head.system_fingerprint = chunk.system_fingerprint;
    if (chunk.usage) this.usage = chunk.usage;
    for (const c of (chunk.choices ?? []) as Record<string, unknown>[]) {
      const index = typeof c.index === 'number' ? c.index : 0;
      let acc = this.choices.get(index);
      if (!acc) {
        acc = {
          index,
          role: 'assistant',
          content: null,
          refusal: null,
          toolCalls: [],
          finishReason: null,
          logprobs: null,
        };
        this.choices.set(index, acc);
      }
      const delta = (c.delta ?? {}) as Record<string, unknown>;
      if (typeof delta.role === 'string') acc.role = delta.role;
      if (typeof delta.content === 'string') acc.content = (acc.content ?? '') + delta.content;
      if (typeof delta.refusal === 'string' && delta.refusal !== '') acc.refusal = (acc.refusal ?? '') + delta.refusal;
      for (const t of (delta.tool_calls ?? []) as Record<string, unknown>[]) {
        const i = typeof t.index === 'number' ? t.index : acc.toolCalls.length;
        acc.toolCalls[i] ??= { function: { name: '', arguments: '' } };
        const call = acc.toolCalls[i];
        if (typeof t.id === 'string') call.id = t.id;
        if (typeof t.type === 'string') call.type = t.type;
        const fn = (t.function ?? {}) as { name?: string; arguments?: string };
        if (fn.name) call.function.name += fn.name;
        if (fn.arguments) call.function.arguments += fn.arguments;
      }
      if (c.finish_reason) acc.finishReason = c.finish_reason as string;
      if (c.logprobs) acc.logprobs = c.logprobs;
    }
  }

  completion(): Record<string, unknown> {
    const choices = [...this.choices.values()]
      .sort((a, b) => a.index - b.index)
      .map((c) => ({
        index: c.index,
        message: {
          role: c.role,
          content: c.content,
          refusal: c.refusal,
          annotations: [],
          ...(c.toolCalls.length > 0
            ? { tool_calls: c.toolCalls.map((t) => ({ id: t.id, type: t.type ?? 'function', function: t.function })) }
            : {}),
        },
        logprobs: c.logprobs,
        finish_reason: c.finishReason,
      }));
    return { ...this.head, object: 'chat.completion', choices, usage: this.usage };
  }
}
