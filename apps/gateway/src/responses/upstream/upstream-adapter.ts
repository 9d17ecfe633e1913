import { Observable } from 'rxjs';
import { ConversationItem, ResponseParams, StoredResponse } from '@app/session-store';
import { RequestTiming } from '../../common/request-timing';
import { TurnEvent } from '../turn';
import { TurnResult } from './chat-result';

/** Everything an upstream needs for one turn. */
export interface UpstreamTurn {
  model: string;
  instructions: string | null;
  /** History then the new input. */
  conversation: ConversationItem[];
  params: ResponseParams;
  /** The caller's Authorization header, passed on unless UPSTREAM_API_KEY is set. */
  authorization: string | undefined;
  timing: RequestTiming;
  /** The response's session tag, carried by the ids of the items it produces (see newItemId). */
  itemTag: string;
}

/** One way of asking the upstream: Chat Completions, or stateless Responses. */
export interface UpstreamAdapter {
  complete(turn: UpstreamTurn, signal: AbortSignal): Promise<TurnResult>;
  /** Resolves once the upstream accepted the request (errors before that reject with an ApiError). */
  stream(turn: UpstreamTurn, draft: StoredResponse, signal: AbortSignal): Promise<Observable<TurnEvent>>;
}

export const UPSTREAM_ADAPTER = Symbol('UPSTREAM_ADAPTER');
