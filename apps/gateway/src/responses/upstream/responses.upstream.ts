import { Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { ConversationItem, EMPTY_USAGE, ResponseUsage, StoredResponse, usageFrom } from '@app/session-store';
import { toResponseObject } from '../response-object';
import { serviceTierOf } from './chat-result';
import { UpstreamItemIds } from './item-ids';
import { isTerminal, StreamEvent } from '../stream-events';
import { TurnEvent } from '../turn';
import { TurnResult } from './chat-result';
import { readSse } from './sse-parser';
import { UpstreamAdapter, UpstreamTurn } from './upstream-adapter';
import { UpstreamClient } from './upstream.client';

/** The fields of an upstream Response object this service takes over. */
interface UpstreamResponse {
  status?: StoredResponse['status'];
  output?: ConversationItem[];
  usage?: ResponseUsage | null;
  incomplete_details?: { reason: string } | null;
  error?: { code: string; message: string } | null;
  service_tier?: string | null;
}

/**
 * UPSTREAM_API=responses: the whole history goes to the upstream's own /responses endpoint,
 * statelessly (`store: false`, no `previous_response_id`); ids and state stay ours.
 */
@Injectable()
export class ResponsesUpstream implements UpstreamAdapter {
  constructor(private readonly client: UpstreamClient) {}

  async complete(turn: UpstreamTurn, signal: AbortSignal): Promise<TurnResult> {
    const call = await this.client.post(
      '/responses',
      statelessRequest(turn, false),
      turn.authorization,
      signal,
      turn.timing,
    );
    return resultOf(await call.json<UpstreamResponse>(), new UpstreamItemIds(turn.itemTag));
  }

  async stream(turn: UpstreamTurn, draft: StoredResponse, signal: AbortSignal): Promise<Observable<TurnEvent>> {
    const call = await this.client.post(
      '/responses',
      statelessRequest(turn, true),
      turn.authorization,
      signal,
      turn.timing,
    );
    const ids = new UpstreamItemIds(turn.itemTag);
    return new Observable<TurnEvent>((subscriber) => {
      let sequence = 0;
      const relay = (event: StreamEvent, final?: StoredResponse) =>
        subscriber.next({ event: { ...event, sequence_number: sequence++ }, ...(final ? { final } : {}) });
      const fail = (code: string, message: string) => {
        call.finish('error');
        const final: StoredResponse = { ...draft, status: 'failed', error: { code, message }, completedAt: Date.now() };
        relay({ type: 'response.failed', sequence_number: 0, response: toResponseObject(final) }, final);
        subscriber.complete();
      };
      const endedEarly = () =>
        fail('upstream_incomplete', 'The upstream ended the stream before the answer was complete.');
      readSse(call.body, {
        data: (data) => {
          if (subscriber.closed) return false;
          if (data === '[DONE]') {
            endedEarly();
            return false;
          }
          const event = JSON.parse(data) as StreamEvent & { response?: UpstreamResponse };
          if (!event.response) {
            relay(ids.event(event));
            return true;
          }
          // Our id, chain and settings on every Response object; the upstream's answer inside.
          const merged: StoredResponse = {
            ...draft,
            ...resultOf(event.response, ids),
            status: event.response.status ?? 'in_progress',
          };
          if (isTerminal(event)) {
            call.finish(event.type === 'response.failed' ? 'error' : 'ok');
            const final: StoredResponse = { ...merged, error: event.response.error ?? null, completedAt: Date.now() };
            relay({ ...event, response: toResponseObject(final) }, final);
            subscriber.complete();
            return false;
          }
          relay({ ...event, response: toResponseObject(merged) });
          return true;
        },
        end: () => {
          if (!subscriber.closed) endedEarly();
        },
        error: (error) => {
          if (subscriber.closed) return;
          const { code, message } = call.reason(error);
          fail(code, message);
        },
      });
      return () => call.abandon();
    });
  }
}

function statelessRequest(turn: UpstreamTurn, stream: boolean) {
  const { params } = turn;
  return {
    model: turn.model,
    input: turn.conversation.filter(isSendable).map(withoutIds),
    ...(turn.instructions !== null ? { instructions: turn.instructions } : {}),
    store: false,
    stream,
    ...(params.temperature !== null ? { temperature: params.temperature } : {}),
    ...(params.top_p !== null ? { top_p: params.top_p } : {}),
    ...(params.max_output_tokens !== null ? { max_output_tokens: params.max_output_tokens } : {}),
    ...(params.tools.length > 0
      ? { tools: params.tools, tool_choice: params.tool_choice, parallel_tool_calls: params.parallel_tool_calls }
      : {}),
    ...(params.user !== null ? { user: params.user } : {}),
    text: params.text,
    ...passedThrough(params),
  };
}

/** The request fields a Responses upstream takes as they are, when the request set them. */
function passedThrough(params: UpstreamTurn['params']): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    truncation: params.truncation,
    service_tier: params.service_tier,
    prompt_cache_key: params.prompt_cache_key,
    prompt_cache_retention: params.prompt_cache_retention,
    safety_identifier: params.safety_identifier,
    top_logprobs: params.top_logprobs,
    max_tool_calls: params.max_tool_calls,
    presence_penalty: params.presence_penalty,
    frequency_penalty: params.frequency_penalty,
  };
  if (params.reasoning && (params.reasoning.effort !== null || params.reasoning.summary !== null)) {
    fields.reasoning = params.reasoning;
  }
  if (params.include && params.include.length > 0) fields.include = params.include;
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null && value !== undefined));
}

/**
 * A `store: false` upstream refuses reasoning items it cannot rebuild: only those carrying their
 * `encrypted_content` (asked for with `include: ["reasoning.encrypted_content"]`) go back to it.
 */
function isSendable(item: ConversationItem): boolean {
  return item.type !== 'reasoning' || Boolean(item.encrypted_content);
}

/**
 * Our item ids mean nothing to a stateless upstream (and `store: false` upstreams reject unknown ones);
 * reasoning items keep theirs, which pairs them with their encrypted content.
 */
function withoutIds(item: ConversationItem): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { id, status, ...rest } = item;
  return item.type === 'reasoning' ? { id, ...rest } : rest;
}

/** Another gateway may leave out the details (or all of usage): fill in zeros. */
function usageOf(usage: Partial<ResponseUsage> | null | undefined): ResponseUsage {
  if (!usage) return EMPTY_USAGE;
  return usageFrom({
    input: usage.input_tokens,
    output: usage.output_tokens,
    cached: usage.input_tokens_details?.cached_tokens,
    reasoning: usage.output_tokens_details?.reasoning_tokens,
    total: usage.total_tokens,
  });
}

function resultOf(response: UpstreamResponse, ids: UpstreamItemIds): TurnResult {
  const status = response.status ?? 'completed';
  return {
    output: (response.output ?? []).map((item) => ids.item(item)),
    usage: usageOf(response.usage),
    status: status === 'in_progress' ? 'completed' : status,
    incompleteDetails: response.incomplete_details ?? null,
    serviceTier: serviceTierOf(response.service_tier),
  };
}
