import { Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { StoredResponse } from '@app/session-store';
import { TurnEvent } from '../turn';
import { ChatStreamTranslator, StreamEnd } from './chat-stream.translator';
import { chatCompletionResult, TurnResult } from './chat-result';
import { toChatRequest } from './chat-request';
import { ChatChunk, ChatCompletion } from './chat-types';
import { readSse } from './sse-parser';
import { UpstreamAdapter, UpstreamTurn } from './upstream-adapter';
import { UpstreamClient } from './upstream.client';

/** UPSTREAM_API=chat: Responses turns over the upstream's Chat Completions endpoint. */
@Injectable()
export class ChatUpstream implements UpstreamAdapter {
  constructor(private readonly client: UpstreamClient) {}

  async complete(turn: UpstreamTurn, signal: AbortSignal): Promise<TurnResult> {
    const request = toChatRequest(turn.model, turn.instructions, turn.conversation, turn.params, false);
    const call = await this.client.post('/chat/completions', request, turn.authorization, signal, turn.timing);
    return chatCompletionResult(await call.json<ChatCompletion>(), turn.itemTag);
  }

  async stream(turn: UpstreamTurn, draft: StoredResponse, signal: AbortSignal): Promise<Observable<TurnEvent>> {
    const request = toChatRequest(turn.model, turn.instructions, turn.conversation, turn.params, true);
    const call = await this.client.post('/chat/completions', request, turn.authorization, signal, turn.timing);
    // Not `turn` in the stream's closures: it holds the whole history, which an open stream no longer needs.
    const { itemTag } = turn;
    return new Observable<TurnEvent>((subscriber) => {
      const translator = new ChatStreamTranslator(draft, itemTag);
      const emitEnd = (end: StreamEnd) => {
        call.finish(end.final.status === 'failed' ? 'error' : 'ok');
        end.events.forEach((event, index) => {
          subscriber.next(index === end.events.length - 1 ? { event, final: end.final } : { event });
        });
        subscriber.complete();
      };
      for (const event of translator.start()) subscriber.next({ event });

      let finished = false;
      const endStream = () =>
        emitEnd(
          finished
            ? translator.complete()
            : translator.fail('upstream_incomplete', 'The upstream ended the stream before the answer was complete.'),
        );
      readSse(call.body, {
        data: (data) => {
          if (subscriber.closed) return false;
          if (data === '[DONE]') {
            finished = true;
            endStream();
            return false;
          }
          const chunk = JSON.parse(data) as ChatChunk;
          if (chunk.error) {
            emitEnd(translator.fail(chunk.error.code ?? 'upstream_error', chunk.error.message ?? 'Upstream error'));
            return false;
          }
          for (const event of translator.push(chunk)) subscriber.next({ event });
          if (chunk.choices?.[0]?.finish_reason) finished = true;
          return true;
        },
        end: () => {
          if (!subscriber.closed) endStream();
        },
        error: (error) => {
          if (subscriber.closed) return;
          const { code, message } = call.reason(error);
          emitEnd(translator.fail(code, message));
        },
      });
      // Unsubscribed before the end (the client went away): drop the upstream connection.
      return () => call.abandon();
    });
  }
}
