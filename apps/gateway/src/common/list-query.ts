import { ApiError } from './api-error';

/** A cursor page of a list endpoint: `after` (an item id), `limit` (1-100, default 20), `order` (default desc). */
export interface ListQuery {
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
}

export function parseListQuery(query: Record<string, unknown>): ListQuery {
  const limitText = query.limit;
  let limit = 20;
  if (limitText !== undefined) {
    limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw ApiError.invalidRequest("Invalid 'limit': expected an integer between 1 and 100.", 'limit');
    }
  }
  const order = query.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc')
    throw ApiError.invalidRequest("Invalid 'order': expected asc or desc.", 'order');
  const after = query.after;
  if (after !== undefined && (typeof after !== 'string' || after === '')) {
    throw ApiError.invalidRequest("Invalid 'after': expected an item id.", 'after');
  }
  return { limit, order, after: after };
}
