import { ConversationItem } from '@app/session-store';
import { inputItemsPage } from './response-object';

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
