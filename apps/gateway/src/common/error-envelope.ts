import { HttpException } from '@nestjs/common';
import { ApiErrorBody, ApiErrorType, isApiErrorBody } from './api-error';

export interface ErrorReply {
  status: number;
  body: ApiErrorBody;
}

const TOO_LARGE = 'Request body is too large.';

const TYPE_BY_STATUS: Record<number, ApiErrorType> = {
  401: 'authentication_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  429: 'rate_limit_error',
};

/**
 * The one place that turns any error into an HTTP status and OpenAI's error envelope.
 * Client mistakes keep their 4xx; anything unexpected becomes a 500 without internals.
 */
export function toErrorReply(error: unknown): ErrorReply {
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    if (isApiErrorBody(response)) return { status, body: response };
    const message = status === 413 ? TOO_LARGE : (messageOf(response) ?? error.message);
    return { status, body: envelope(status, message) };
  }
  const fastifyStatus = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    return { status: fastifyStatus, body: envelope(fastifyStatus, clientMessage(error as Error, fastifyStatus)) };
  }
  return {
    status: 500,
    body: {
      error: {
        message: 'The server had an error processing your request.',
        type: 'server_error',
        param: null,
        code: null,
      },
    },
  };
}

function envelope(status: number, message: string): ApiErrorBody {
  const type = TYPE_BY_STATUS[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
  const code = status === 404 ? 'not_found' : null;
  return { error: { message, type, param: null, code } };
}

function messageOf(response: string | object): string | undefined {
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : undefined;
}

function clientMessage(error: Error, status: number): string {
  const code = (error as { code?: unknown }).code;
  if (status === 413 || code === 'FST_ERR_CTP_BODY_TOO_LARGE') return TOO_LARGE;
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'Unsupported Content-Type; send application/json.';
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'Request body is empty; send a JSON object.';
  if (error instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return `We could not parse the JSON body of your request: ${error.message}`;
  }
  return error.message;
}
