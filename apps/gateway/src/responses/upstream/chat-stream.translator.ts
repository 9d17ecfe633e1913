import {
  ConversationItem,
  FunctionCallItem,
  newItemId,
  ResponseUsage,
  ServiceTier,
  StoredResponse,
  TokenLogprob,
} from '@app/session-store';
import { toResponseObject } from '../response-object';
import { EventFields, StreamEvent } from '../stream-events';
import { messageItem, serviceTierOf, statusOf, toResponseUsage, toTokenLogprobs } from './chat-result';
import { ChatChunk, ChatToolCallDelta } from './chat-types';

interface OpenMessage {
  outputIndex: number;
  id: string;
  text: string;
  logprobs: TokenLogprob[];
}

interface OpenCall {
  outputIndex: number;
  item: FunctionCallItem;
}

export interface StreamEnd {
  events: StreamEvent[];
  final: StoredResponse;
}

/**
 * Turns Chat Completions chunks into Responses stream events, in OpenAI's order, numbering
 * them from 0. Deltas are emitted as they arrive; items are closed when the answer ends.
 */
export class ChatStreamTranslator {
  private sequence = 0;
  private readonly output: ConversationItem[] = [];
  private message?: OpenMessage;
  private readonly calls = new Map<number, OpenCall>();
  private usage?: ResponseUsage;
  private finishReason?: string | null;
  private serviceTier: ServiceTier | null = null;

  constructor(
    private readonly draft: StoredResponse,
    private readonly itemTag?: string,
  ) {}

  start(): StreamEvent[] {
    const response = toResponseObject({ ...this.draft, status: 'in_progress', output: [] });
    return [this.event({ type: 'response.created', response }), this.event({ type: 'response.in_progress', response })];
  }

  push(chunk: ChatChunk): StreamEvent[] {
    const events: StreamEvent[] = [];
    if (chunk.usage) this.usage = toResponseUsage(chunk.usage);
    this.serviceTier = serviceTierOf(chunk.service_tier) ?? this.serviceTier;
    const choice = chunk.choices?.[0];
    if (!choice) return events;
    const delta = choice.delta;
    if (delta?.content) events.push(...this.appendText(delta.content, toTokenLogprobs(choice.logprobs?.content)));
    for (const call of delta?.tool_calls ?? []) events.push(...this.appendCall(call));
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    return events;
  }

  /** The upstream finished: close what is open and end with response.completed (or .incomplete). */
  complete(): StreamEnd {
    const { status, incompleteDetails } = statusOf(this.finishReason);
    const events = this.closeAll(status === 'incomplete' ? 'incomplete' : 'completed');
    const final: StoredResponse = {
      ...this.draft,
      status,
      incompleteDetails,
      output: this.output,
      usage: this.usage ?? this.draft.usage,
      serviceTier: this.serviceTier,
      completedAt: Date.now(),
    };
    const response = toResponseObject(final);
    events.push(
      this.event(
        status === 'incomplete' ? { type: 'response.incomplete', response } : { type: 'response.completed', response },
      ),
    );
    return { events, final };
  }

  /** The upstream broke off: end with response.failed; what arrived so far is kept in the record. */
  fail(code: string, message: string): StreamEnd {
    const final: StoredResponse = {
      ...this.draft,
      status: 'failed',
      error: { code, message },
      output: this.output,
      usage: this.usage ?? this.draft.usage,
      completedAt: Date.now(),
    };
    return { events: [this.event({ type: 'response.failed', response: toResponseObject(final) })], final };
  }

  private appendText(text: string, logprobs: TokenLogprob[]): StreamEvent[] {
    const events: StreamEvent[] = [];
    if (!this.message) {
      const id = newItemId('msg', this.itemTag);
      const outputIndex = this.output.length;
      this.message = { outputIndex, id, text: '', logprobs: [] };
      this.output.push({ ...messageItem(id, '', null, 'completed'), status: 'in_progress', content: [] });
      events.push(
        this.event({
          type: 'response.output_item.added',
          output_index: outputIndex,
          item: { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
        }),
        this.event({
          type: 'response.content_part.added',
          item_id: id,
          output_index: outputIndex,
          content_index: 0,
          part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
        }),
      );
    }
    this.message.text += text;
    this.message.logprobs.push(...logprobs);
    events.push(
      this.event({
        type: 'response.output_text.delta',
        item_id: this.message.id,
        output_index: this.message.outputIndex,
        content_index: 0,
        delta: text,
        logprobs,
      }),
    );
    return events;
  }

  private appendCall(call: ChatToolCallDelta): StreamEvent[] {
    const events: StreamEvent[] = [];
    const index = call.index ?? 0;
    let open = this.calls.get(index);
    if (!open) {
      events.push(...this.closeMessage('completed'));
      const item: FunctionCallItem = {
        id: newItemId('fc', this.itemTag),
        type: 'function_call',
        call_id: call.id ?? `call_${newItemId('fc').slice(3, 27)}`,
        name: call.function?.name ?? '',
        arguments: '',
        status: 'in_progress',
      };
      open = { outputIndex: this.output.length, item };
      this.calls.set(index, open);
      this.output.push(item);
      events.push(
        this.event({ type: 'response.output_item.added', output_index: open.outputIndex, item: { ...item } }),
      );
    } else if (call.function?.name) {
      open.item.name += call.function.name;
    }
    const delta = call.function?.arguments ?? '';
    if (delta !== '') {
      open.item.arguments += delta;
      events.push(
        this.event({
          type: 'response.function_call_arguments.delta',
          item_id: open.item.id,
          output_index: open.outputIndex,
          delta,
        }),
      );
    }
    return events;
  }

  private closeAll(status: 'completed' | 'incomplete'): StreamEvent[] {
    const events = this.closeMessage(status);
    for (const { outputIndex, item } of this.calls.values()) {
      item.status = 'completed';
      events.push(
        this.event({
          type: 'response.function_call_arguments.done',
          item_id: item.id,
          output_index: outputIndex,
          name: item.name,
          arguments: item.arguments,
        }),
        this.event({ type: 'response.output_item.done', output_index: outputIndex, item: { ...item } }),
      );
    }
    this.calls.clear();
    return events;
  }

  private closeMessage(status: 'completed' | 'incomplete'): StreamEvent[] {
    const open = this.message;
    if (!open) return [];
    this.message = undefined;
    const item = messageItem(open.id, open.text, null, status, open.logprobs);
    this.output[open.outputIndex] = item;
    const part = item.content[0];
    return [
      this.event({
        type: 'response.output_text.done',
        item_id: open.id,
        output_index: open.outputIndex,
        content_index: 0,
        text: open.text,
        logprobs: open.logprobs,
      }),
      this.event({
        type: 'response.content_part.done',
        item_id: open.id,
        output_index: open.outputIndex,
        content_index: 0,
        part,
      }),
      this.event({ type: 'response.output_item.done', output_index: open.outputIndex, item }),
    ];
  }

  private event(fields: EventFields): StreamEvent {
    return { ...fields, sequence_number: this.sequence++ };
  }
}
