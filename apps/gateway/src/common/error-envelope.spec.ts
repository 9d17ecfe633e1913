import { NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { ApiError } from './api-error';
import { toErrorReply } from './error-envelope';

describe('toErrorReply', () => {
  it('passes an ApiError through with its status and envelope', () => {
    const error = ApiError.invalidRequest(
      "Previous response with id 'resp_1' not found.",
      'previous_response_id',
      'previous_response_not_found',
    );
    expect(toErrorReply(error)).toEqual({
      status: 400,
      body: {
        error: {
          message: "Previous response with id 'resp_1' not found.",
          type: 'invalid_request_error',
          param: 'previous_response_id',
          code: 'previous_response_not_found',
        },
      },
    });
  });

  it("wraps Nest's own HTTP exceptions in the envelope", () => {
    expect(toErrorReply(new NotFoundException('Cannot GET /nope'))).toEqual({
      status: 404,
      body: { error: { message: 'Cannot GET /nope', type: 'invalid_request_error', param: null, code: 'not_found' } },
    });
    expect(toErrorReply(new PayloadTooLargeException()).status).toBe(413);
  });

  it("keeps the 4xx of Fastify's own errors with a readable message", () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), {
      statusCode: 413,
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    });
    expect(toErrorReply(tooLarge)).toEqual({
      status: 413,
      body: {
        error: { message: 'Request body is too large.', type: 'invalid_request_error', param: null, code: null },
      },
    });
    const badJson = Object.assign(new SyntaxError('Unexpected token b in JSON'), { statusCode: 400 });
    expect(toErrorReply(badJson).body.error.message).toMatch(/could not parse the JSON body/);
  });

  it('hides the details of unexpected errors behind a 500 server_error', () => {
    const reply = toErrorReply(new TypeError("Cannot read properties of undefined (reading 'secret')"));
    expect(reply.status).toBe(500);
    expect(reply.body.error.type).toBe('server_error');
    expect(JSON.stringify(reply.body)).not.toContain('secret');
  });
});
