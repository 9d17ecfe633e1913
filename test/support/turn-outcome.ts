/** What a client saw of one turn: the answer's text and cache header, or the error's status and code. */
export type TurnOutcome =
  { status: 200; text: string; cache: string | null } | { status: number | undefined; code: string | undefined };

/** The SDK call (`client.responses.create(...)`, not awaited) settled as a TurnOutcome; never rejects. */
export function outcomeOf(call: {
  withResponse(): Promise<{ data: { output_text: string }; response: Response }>;
}): Promise<TurnOutcome> {
  return call.withResponse().then(
    ({ data, response }) => ({
      status: 200 as const,
      text: data.output_text,
      cache: response.headers.get('x-session-cache'),
    }),
    (error: { status?: number; error?: { code?: string } }) => ({ status: error.status, code: error.error?.code }),
  );
}
