import { Injectable } from '@nestjs/common';
import { PrismaService } from '@app/database';
import { jsonText } from './pg-json';
import { ConversationItem } from './response-items';

/** A conversation of the Conversations API, as stored. */
export interface StoredConversation {
  id: string;
  ownerHash: string;
  metadata: Record<string, string>;
  /** Unix milliseconds. */
  createdAt: number;
}

export interface ItemsPage {
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
}

/** A conversation's version and the items a write added, in order. */
export interface ConversationVersion {
  version: number;
  items: ConversationItem[];
}

/** What an append did: the conversation's versions before and after it, and the items added, in order. */
export interface Appended {
  before: number;
  after: number;
  items: ConversationItem[];
}

/** A conversation's items at one version, as the JSON text of an array. */
export interface ConversationSnapshot {
  version: number;
  itemsJson: string;
}

/**
 * PostgreSQL, the durable record of conversations: every write is one statement (atomic), every
 * lookup is scoped to the owner, and items are ordered by a sequence, so concurrent appends to one
 * conversation each land whole and none is lost.
 */
@Injectable()
export class ConversationRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Creates the conversation with its initial items (an item id given twice is kept once, the first time);
   * resolves its version then (the trigger bumps it once for a statement that added items) and the items kept.
   */
  async create(conversation: StoredConversation, items: ConversationItem[]): Promise<ConversationVersion> {
    const { rows } = await this.prisma.direct<{ position: string; item_id: string }>(
      `WITH created AS (
         INSERT INTO conversations (id, owner_hash, metadata, created_at) VALUES ($1, $2, $3::jsonb, $4::timestamptz)
         RETURNING id)
       INSERT INTO conversation_items (conversation_id, item_id, item, created_at)
       SELECT created.id, i.item_id, i.item, $4::timestamptz
         FROM created, unnest($5::text[], $6::jsonb[]) WITH ORDINALITY AS i(item_id, item, n)
        ORDER BY i.n
       ON CONFLICT (conversation_id, item_id) DO NOTHING
       RETURNING position, item_id`,
      [
        conversation.id,
        conversation.ownerHash,
        jsonText(conversation.metadata),
        new Date(conversation.createdAt).toISOString(),
        items.map((item) => item.id),
        items.map((item) => jsonText(item)),
      ],
    );
    const inserted = rows.sort((a, b) => Number(a.position) - Number(b.position)).map((row) => row.item_id);
    return { version: inserted.length > 0 ? 1 : 0, items: addedInOrder(inserted, items) };
  }

  async find(id: string, ownerHash: string): Promise<StoredConversation | null> {
    const { rows } = await this.prisma.direct<ConversationRow>(
      'SELECT id, owner_hash, metadata, created_at FROM conversations WHERE id = $1 AND owner_hash = $2 AND deleted_at IS NULL',
      [id, ownerHash],
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async updateMetadata(
    id: string,
    ownerHash: string,
    metadata: Record<string, string>,
  ): Promise<StoredConversation | null> {
    const { rows } = await this.prisma.direct<ConversationRow>(
      `UPDATE conversations SET metadata = $3::jsonb WHERE id = $1 AND owner_hash = $2 AND deleted_at IS NULL
       RETURNING id, owner_hash, metadata, created_at`,
      [id, ownerHash, jsonText(metadata)],
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /** Marks the conversation deleted and removes its items, in one statement. Resolves whether it existed. */
  async delete(id: string, ownerHash: string): Promise<boolean> {
    const { rows } = await this.prisma.direct<{ deleted: number }>(
      `WITH deleted AS (
         UPDATE conversations SET deleted_at = now(), metadata = NULL
          WHERE id = $1 AND owner_hash = $2 AND deleted_at IS NULL RETURNING id),
       removed AS (DELETE FROM conversation_items WHERE conversation_id IN (SELECT id FROM deleted))
       SELECT count(*)::int AS deleted FROM deleted`,
      [id, ownerHash],
    );
    return (rows[0]?.deleted ?? 0) > 0;
  }

  /**
   * Appends items, in order, in one statement that first locks the conversation's row: appends to one
   * conversation (and its deletion) run one after another, so each turn's items stay together and
   * positions follow commit order. An item already in the conversation (an `item_reference` to one of
   * them, a retried request) is not added again (the unique index, also against an append that
   * committed while this one waited for the lock). Resolves null (nothing appended) when the
   * conversation does not exist for this owner; else the versions before and after it (the trigger
   * bumps it once when items were added) and the items added, in order.
   */
  async append(id: string, ownerHash: string, items: ConversationItem[]): Promise<Appended | null> {
    const { rows } = await this.prisma.direct<{ before: string; added: string[] | null }>(
      `WITH locked AS (
         SELECT id, version FROM conversations WHERE id = $1 AND owner_hash = $2 AND deleted_at IS NULL FOR UPDATE),
       inserted AS (
         INSERT INTO conversation_items (conversation_id, item_id, item, created_at)
         SELECT locked.id, i.item_id, i.item, now()
           FROM locked, unnest($3::text[], $4::jsonb[]) WITH ORDINALITY AS i(item_id, item, n)
          ORDER BY i.n
         ON CONFLICT (conversation_id, item_id) DO NOTHING
         RETURNING position, item_id)
       SELECT locked.version::text AS before, (SELECT array_agg(item_id ORDER BY position) FROM inserted) AS added
         FROM locked`,
      [id, ownerHash, items.map((item) => item.id), items.map((item) => jsonText(item))],
    );
    const row = rows[0];
    if (!row) return null;
    const before = Number(row.before);
    const added = addedInOrder(row.added ?? [], items);
    return { before, after: added.length > 0 ? before + 1 : before, items: added };
  }

  /**
   * The conversation's version and every item, oldest first, as of one moment (one statement); null when
   * the conversation does not exist for this owner. The items come as the JSON text of an array.
   */
  async snapshot(id: string, ownerHash: string): Promise<ConversationSnapshot | null> {
    const { rows } = await this.prisma.direct<{ version: string; items: string }>(
      `SELECT c.version::text AS version,
              coalesce((SELECT json_agg(i.item ORDER BY i.position) FROM conversation_items i
                         WHERE i.conversation_id = c.id), '[]')::text AS items
         FROM conversations c WHERE c.id = $1 AND c.owner_hash = $2 AND c.deleted_at IS NULL`,
      [id, ownerHash],
    );
    const row = rows[0];
    return row ? { version: Number(row.version), itemsJson: row.items } : null;
  }

  /** The version of the conversation's items; null when it does not exist for this owner. */
  async version(id: string, ownerHash: string): Promise<number | null> {
    const { rows } = await this.prisma.direct<{ version: string }>(
      'SELECT version::text AS version FROM conversations WHERE id = $1 AND owner_hash = $2 AND deleted_at IS NULL',
      [id, ownerHash],
    );
    return rows[0] ? Number(rows[0].version) : null;
  }

  /** A page of items (the conversation's owner checked by the caller); one more than asked tells whether there are more. */
  async page(id: string, page: ItemsPage): Promise<{ items: ConversationItem[]; hasMore: boolean } | null> {
    const after =
      page.after === undefined
        ? null
        : await this.prisma.direct<{ position: string }>(
            'SELECT position FROM conversation_items WHERE conversation_id = $1 AND item_id = $2 ORDER BY position DESC LIMIT 1',
            [id, page.after],
          );
    if (after && after.rows.length === 0) return { items: [], hasMore: false };
    const cursor = after?.rows[0]?.position ?? null;
    const direction = page.order === 'asc' ? 'ASC' : 'DESC';
    const comparison = page.order === 'asc' ? '>' : '<';
    const { rows } = await this.prisma.direct<{ item: ConversationItem }>(
      `SELECT item FROM conversation_items
        WHERE conversation_id = $1 AND ($2::bigint IS NULL OR position ${comparison} $2::bigint)
        ORDER BY position ${direction} LIMIT $3`,
      [id, cursor, page.limit + 1],
    );
    return { items: rows.slice(0, page.limit).map((row) => row.item), hasMore: rows.length > page.limit };
  }

  async item(id: string, itemId: string): Promise<ConversationItem | null> {
    const { rows } = await this.prisma.direct<{ item: ConversationItem }>(
      'SELECT item FROM conversation_items WHERE conversation_id = $1 AND item_id = $2 ORDER BY position DESC LIMIT 1',
      [id, itemId],
    );
    return rows[0]?.item ?? null;
  }

  /** Resolves whether an item was removed (under the conversation's lock; the trigger bumps the version). */
  async deleteItem(id: string, itemId: string): Promise<boolean> {
    const { rows } = await this.prisma.direct<{ removed: number }>(
      `WITH locked AS (SELECT id FROM conversations WHERE id = $1 FOR UPDATE),
       removed AS (
         DELETE FROM conversation_items WHERE conversation_id IN (SELECT id FROM locked) AND item_id = $2 RETURNING 1)
       SELECT count(*)::int AS removed FROM removed`,
      [id, itemId],
    );
    return (rows[0]?.removed ?? 0) > 0;
  }
}

/** The items whose ids were inserted, in insertion order, each once (the first of a batch's duplicates). */
function addedInOrder(insertedIds: string[], items: ConversationItem[]): ConversationItem[] {
  const byId = new Map<string, ConversationItem>();
  for (const item of items) if (!byId.has(item.id)) byId.set(item.id, item);
  return insertedIds.map((itemId) => byId.get(itemId)).filter((item) => item !== undefined);
}

interface ConversationRow {
  id: string;
  owner_hash: string;
  metadata: Record<string, string> | null;
  created_at: Date;
}

function fromRow(row: ConversationRow): StoredConversation {
  return { id: row.id, ownerHash: row.owner_hash, metadata: row.metadata ?? {}, createdAt: row.created_at.getTime() };
}
