import { contentOf, fromCachedFields, toCachedFields } from './cached-response';
import { DEFAULT_RESPONSE_PARAMS, EMPTY_USAGE } from './response-items';
import { StoredResponse } from './stored-response';

const response: StoredResponse = {
  id: 'resp_0123456789abcdef0123456789abcdef0123456789abcdef',
  sessionId: 'sess_1',
  previousResponseId: null,
  ownerHash: 'a'.repeat(64),
  model: 'm',
  store: true,
  input: [
    { id: 'msg_1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'call f' }] },
    { id: 'fco_1', type: 'function_call_output', call_id: 'c0', output: '{}' },
  ],
  instructions: 'be brief',
  output: [{ id: 'fc_1', type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}', status: 'completed' }],
  params: DEFAULT_RESPONSE_PARAMS,
  metadata: { k: 'v' },
  status: 'completed',
  error: null,
  incompleteDetails: null,
  usage: EMPTY_USAGE,
  historySource: 'hit',
  createdAt: 1,
  completedAt: 2,
  deletedAt: null,
};

describe('cached response fields', () => {
  it('give back the same response, input and output apart', () => {
    const { meta, content } = toCachedFields(response);
    expect(fromCachedFields(meta, content)).toEqual(response);
    const outputOnly = toCachedFields({ ...response, input: [] });
    expect(fromCachedFields(outputOnly.meta, outputOnly.content)).toEqual({ ...response, input: [] });
  });

  it('keep the content, input then output, apart from the rest', () => {
    const { meta, content } = toCachedFields(response);
    expect(contentOf(content)).toEqual([...response.input, ...response.output]);
    expect(meta).not.toContain('call f');
  });
});
