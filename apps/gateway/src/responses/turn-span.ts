import { Span } from '@opentelemetry/api';
import {
  ATTRIBUTES,
  chatSpanName,
  GEN_AI_OPERATION_CHAT,
  GEN_AI_PROVIDER_OPENAI,
  markFailed,
  serviceTracer,
  startSpan,
} from '@app/telemetry';
import { StoredResponse } from '@app/session-store';
import { apiErrorType } from '../common/api-error-type';

/**
 * The span of one turn, `chat {model}` with the GenAI conventions' attributes, under the request's server
 * span and above its phases (history, upstream, cache save, durable write). It ends once the response is
 * recorded (a stream: at its terminal event, or when it is cut) or when the turn fails. Ids, model and token
 * counts only: never the input, the instructions or the output. Undefined when the turn is not traced.
 */
export function startTurnSpan(model: string, stream: boolean): Span | undefined {
  if (!serviceTracer()) return undefined;
  // Attributes at creation, as the conventions ask, so that samplers can see them.
  return startSpan(chatSpanName(model), {
    attributes: {
      [ATTRIBUTES.genAiOperationName]: GEN_AI_OPERATION_CHAT,
      [ATTRIBUTES.genAiProviderName]: GEN_AI_PROVIDER_OPENAI,
      [ATTRIBUTES.openAiApiType]: 'responses',
      [ATTRIBUTES.genAiRequestModel]: model,
      [ATTRIBUTES.genAiRequestStream]: stream,
    },
  });
}

/** Once the response exists (its id is the one the client gets) and its session is known. */
export function describeTurn(span: Span | undefined, draft: StoredResponse): void {
  if (!span?.isRecording()) return;
  span.setAttributes({
    [ATTRIBUTES.genAiResponseId]: draft.id,
    [ATTRIBUTES.genAiConversationId]: draft.sessionId,
  });
}

/**
 * Ends the turn's span with the response's model and token usage, and its status: failed when the response
 * failed or was cut, or when it could not be `stored` (the client was told to retry).
 */
export function endTurnSpan(span: Span | undefined, response: StoredResponse, stored = true): void {
  if (!span) return;
  if (span.isRecording()) {
    span.setAttributes({
      [ATTRIBUTES.genAiResponseModel]: response.model,
      [ATTRIBUTES.genAiUsageInputTokens]: response.usage.input_tokens,
      [ATTRIBUTES.genAiUsageOutputTokens]: response.usage.output_tokens,
      [ATTRIBUTES.responseStatus]: stored ? response.status : 'failed',
    });
    if (!stored) markFailed(span, 'store_unavailable');
    else if (response.status === 'failed' || response.status === 'cancelled') {
      markFailed(span, response.error?.code ?? response.status);
    }
  }
  span.end();
}

/** Ends the turn's span when it failed before there was a response to tell about. */
export function failTurnSpan(span: Span | undefined, error: unknown): void {
  if (!span) return;
  markFailed(span, apiErrorType(error));
  span.end();
}
