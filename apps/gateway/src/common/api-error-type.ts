import { InSpanOptions } from '@app/telemetry';
import { toErrorReply } from './error-envelope';

/** A failed span's `error.type`: the code of the error the client gets (else its type), never its message. */
export function apiErrorType(error: unknown): string {
  const { code, type } = toErrorReply(error).body.error;
  return code ?? type;
}

/** inSpan options for work whose errors reach the client as API errors. */
export const API_ERROR_SPAN: InSpanOptions = { errorType: apiErrorType };
