import { ConversationItem, DEFAULT_RESPONSE_PARAMS } from '@app/session-store';
import { storedResponse } from '../../../../test/support/records';
import { wireResponseProblems } from '../../../../test/support/wire-response';
import { inputItemsPage, toResponseObject, WireResponse } from './response-object';

const items: ConversationItem[] = ['a', 'b', 'c'].map((id) => ({
  id,
  type: 'message',
  role: 'user',
  content: [{ type: 'input_text', text: id }],
}));

describe('inputItemsPage', () => {
  it('pages newest first by default, with cursors', () => {
    expect(inputItemsPage(items, { limit: 2, order: 'desc' })).toMatchObject({
      object: 'list',
      first_id: 'c',
      last_id: 'b',
      has_more: true,
    });
    expect(inputItemsPage(items, { limit: 2, order: 'desc', after: 'b' })).toMatchObject({
      first_id: 'a',
      last_id: 'a',
      has_more: false,
    });
  });

  it('pages oldest first with order=asc, and returns an empty page for an unknown cursor', () => {
    expect(inputItemsPage(items, { limit: 5, order: 'asc' }).data.map((item) => item.id)).toEqual(['a', 'b', 'c']);
    expect(inputItemsPage(items, { limit: 5, order: 'asc', after: 'zzz' })).toEqual({
      object: 'list',
      data: [],
      first_id: null,
      last_id: null,
      has_more: false,
    });
  });
});

describe('toResponseObject', () => {
  const stored = storedResponse({
    id: `resp_${'a'.repeat(48)}`,
    params: { ...DEFAULT_RESPONSE_PARAMS, service_tier: 'auto' },
    createdAt: 1_700_000_000_000,
    completedAt: 1_700_000_001_000,
  });

  it('renders every wire field (typed as the openai package types a Response), with OpenAI defaults', () => {
    const rendered: WireResponse = toResponseObject(stored);
    expect(wireResponseProblems(rendered)).toEqual([]);
    expect(rendered).toMatchObject({ completed_at: 1_700_000_001, service_tier: 'default', temperature: 1, top_p: 1 });
  });

  it('reads entries stored before the newer parameters existed as their defaults', () => {
    const { truncation, reasoning, service_tier, ...older } = DEFAULT_RESPONSE_PARAMS;
    void [truncation, reasoning, service_tier];
    const rendered = toResponseObject({ ...stored, params: { ...older, text: { format: { type: 'text' } } } });
    expect(wireResponseProblems(rendered)).toEqual([]);
    expect(rendered).toMatchObject({
      truncation: 'disabled',
      reasoning: { effort: null },
      text: { verbosity: 'medium' },
    });
  });
});
