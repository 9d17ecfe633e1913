import { DEFAULT_RESPONSE_PARAMS, EMPTY_USAGE, newItemId, newResponseId, StoredResponse } from '@app/session-store';

/** A finished, stored response for tests of the storage layers. */
export function storedResponse(overrides: Partial<StoredResponse> = {}): StoredResponse {
  const sessionId = overrides.sessionId ?? 'sess_test';
  const ownerHash = overrides.ownerHash ?? 'a'.repeat(64);
  return {
    id: newResponseId(ownerHash, sessionId),
    sessionId,
    previousResponseId: null,
    ownerHash,
    model: 'mock-gpt',
    store: true,
    input: [{ id: newItemId('msg'), type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
    instructions: null,
    output: [],
    params: DEFAULT_RESPONSE_PARAMS,
    metadata: {},
    status: 'completed',
    error: null,
    incompleteDetails: null,
    usage: { ...EMPTY_USAGE, input_tokens: 3, output_tokens: 4, total_tokens: 7 },
    historySource: 'none',
    createdAt: Date.now(),
    completedAt: Date.now(),
    deletedAt: null,
    ...overrides,
  };
}

/** A chain of `length` responses in one session, oldest first. */
export function storedChain(length: number, overrides: Partial<StoredResponse> = {}): StoredResponse[] {
  const chain: StoredResponse[] = [];
  const start = Date.now() - length;
  for (let index = 0; index < length; index += 1) {
    chain.push(
      storedResponse({ ...overrides, previousResponseId: chain[index - 1]?.id ?? null, createdAt: start + index }),
    );
  }
  return chain;
}
