import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService, ResponseRecord } from '@app/database';
import { jsonText, text } from './pg-json';
import { ConversationItem, EMPTY_USAGE, ResponseParams } from './response-items';
import { HistorySource, referencesTo, ResponseStatus, StoredResponse } from './stored-response';

/** One response's INSERT values, in INSERT_COLUMNS order. */
export type PreparedRow = readonly unknown[];

/** Column name and the cast its parameter needs, in insert order. */
const INSERT_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['id', ''],
  ['session_id', ''],
  ['parent_response_id', ''],
  ['owner_hash', ''],
  ['model', ''],
  ['store', '::boolean'],
  ['input', '::jsonb'],
  ['instructions', ''],
  ['output', '::jsonb'],
  ['params', '::jsonb'],
  ['metadata', '::jsonb'],
  ['status', ''],
  ['error', '::jsonb'],
  ['incomplete_details', '::jsonb'],
  ['input_tokens', '::integer'],
  ['output_tokens', '::integer'],
  ['total_tokens', '::integer'],
  ['cached_tokens', '::integer'],
  ['reasoning_tokens', '::integer'],
  ['history_source', ''],
  ['conversation_id', ''],
  ['created_at', '::timestamptz'],
  ['completed_at', '::timestamptz'],
  ['deleted_at', '::timestamptz'],
];

/** Hard stop for a recursive chain query. */
const MAX_CHAIN_DEPTH = 100_000;

/**
 * The columns a chain lookup reads (RawRow): every column the insert writes, named rather than `*`. The
 * lookup is a prepared statement, and PostgreSQL refuses to run one whose result would change shape
 * ("cached plan must not change result type") after a migration adds a column while this replica runs.
 */
const CHAIN_COLUMNS = INSERT_COLUMNS.map(([name]) => name);
const columnsOf = (table: string) => CHAIN_COLUMNS.map((column) => `${table}.${column}`).join(', ');

/** $1 response id, $2 owner hash, $3 depth limit. Also on the hot path: taken on every Redis miss. */
const CHAIN_QUERY = `
  WITH RECURSIVE chain AS (
    SELECT ${columnsOf('r')}, 1 AS depth FROM responses r
     WHERE r.id = $1 AND r.owner_hash = $2
    UNION ALL
    SELECT ${columnsOf('p')}, c.depth + 1 FROM responses p
      JOIN chain c ON p.id = c.parent_response_id
     WHERE p.owner_hash = $2 AND c.depth < $3
  )
  SELECT ${CHAIN_COLUMNS.join(', ')} FROM chain ORDER BY depth`;

/** PostgreSQL, the durable record. Every lookup is scoped to the owner. */
@Injectable()
export class ResponseRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** See PrismaService.drainBeforeDisconnect. */
  drainBeforeDisconnect(drain: () => Promise<void>): void {
    this.prisma.drainBeforeDisconnect(drain);
  }

  /**
   * Idempotent: rows whose id already exists are skipped. Resolves how many were inserted.
   * One INSERT of arrays, straight through the pool: Prisma's createMany, and even its raw queries,
   * cost several times more CPU per row (measured by `npm run bench`), and this runs for every
   * response the service produces.
   */
  insertMany(responses: StoredResponse[]): Promise<number> {
    return this.insertPrepared(responses.map((response) => this.prepare(response)));
  }

  /** The insert values of one response; throws when its data cannot become SQL (see RowInserter). */
  prepare(response: StoredResponse): PreparedRow {
    return toRow(response);
  }

  /** insertMany for rows already prepared. */
  async insertPrepared(rows: PreparedRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    // One array a column: 24 parameters whatever the batch size. A JSON column goes as one text of its
    // values joined by a control character: pg would escape every quote of an array literal's elements
    // again (a copy of all the content), and JSON.stringify never writes a control character raw.
    const columns = INSERT_COLUMNS.map(([, cast], column) => {
      const values = rows.map((row) => row[column]);
      if (cast !== '::jsonb') return values;
      // toRow gives a JSON column jsonText's string, or null.
      return (values as Array<string | null>).map((value) => value ?? JSON_NULL).join(JSON_SEPARATOR);
    });
    return (await this.prisma.direct(INSERT_QUERY, columns, 'rsc_insert_responses')).rowCount;
  }

  /** The resolvable chain ending at `id`, newest first, in one recursive query. */
  async chain(id: string, ownerHash: string): Promise<StoredResponse[]> {
    const { rows } = await this.prisma.direct<RawRow>(CHAIN_QUERY, [id, ownerHash, MAX_CHAIN_DEPTH], 'rsc_chain');
    return rows.map(fromRawRow);
  }

  async find(id: string, ownerHash: string): Promise<StoredResponse | null> {
    const row = await this.prisma.responseRecord.findFirst({ where: { id, ownerHash } });
    return row ? fromRecord(row) : null;
  }

  /**
   * Items of this owner's stored, undeleted responses by id (input or output), newest response first
   * when an id repeats. Uses the owner's index; the items are matched with jsonb containment.
   */
  async items(ids: string[], ownerHash: string): Promise<Map<string, ConversationItem>> {
    const found = new Map<string, ConversationItem>();
    if (ids.length === 0) return found;
    const patterns = ids.flatMap((id) => [JSON.stringify([{ id }]), JSON.stringify([{ call_id: id }])]);
    const { rows } = await this.prisma.direct<{ input: unknown; output: unknown }>(ITEMS_QUERY, [ownerHash, patterns]);
    for (const row of rows) {
      for (const item of [...asItems(row.input), ...asItems(row.output)]) {
        for (const id of referencesTo(item)) if (ids.includes(id) && !found.has(id)) found.set(id, item);
      }
    }
    return found;
  }

  /** Keeps the spend-log facts, drops the content. Resolves whether a row was changed. */
  async markDeleted(id: string, ownerHash: string, at: Date = new Date()): Promise<boolean> {
    const result = await this.prisma.responseRecord.updateMany({
      where: { id, ownerHash, deletedAt: null },
      data: { deletedAt: at, input: Prisma.DbNull, output: Prisma.DbNull, instructions: null },
    });
    return result.count > 0;
  }
}

/**
 * Items by id (or call id) among the owner's newest ITEMS_LOOKBACK stored, finished responses: the
 * owner index bounds the work, whatever the id (no index on the items themselves).
 */
const ITEMS_LOOKBACK = 5_000;
const ITEMS_QUERY = `
SELECT input, output FROM (
  SELECT input, output, created_at FROM responses
   WHERE owner_hash = $1 AND store AND deleted_at IS NULL AND status IN ('completed', 'incomplete')
   ORDER BY created_at DESC LIMIT ${ITEMS_LOOKBACK}) recent
WHERE output @> ANY($2::jsonb[]) OR input @> ANY($2::jsonb[])
ORDER BY created_at DESC
LIMIT 100`;

function asItems(value: unknown): ConversationItem[] {
  return Array.isArray(value) ? (value as ConversationItem[]) : [];
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value)
    ? Math.min(2_147_483_647, Math.max(0, Math.round(value)))
    : 0;
}

/** Separates the values of a JSON column's parameter, and stands for SQL NULL there (see insertPrepared). */
const JSON_SEPARATOR = '\u001e';
const JSON_NULL = '\u001f';

/** The SQL array of a column's parameter. */
function arrayOf(parameter: string, cast: string): string {
  if (cast === '::jsonb') return `string_to_array(${parameter}::text, chr(30), chr(31))::jsonb[]`;
  return cast === '' ? `${parameter}::text[]` : `${parameter}${cast}[]`;
}

/** One array a column, whatever the batch size; existing ids are skipped. */
const INSERT_QUERY =
  `INSERT INTO responses (${INSERT_COLUMNS.map(([name]) => name).join(',')}) ` +
  `SELECT * FROM unnest(${INSERT_COLUMNS.map(([, cast], index) => arrayOf(`$${index + 1}`, cast)).join(',')}) ` +
  'ON CONFLICT (id) DO NOTHING';

/**
 * The INSERT_COLUMNS values of one response; content only when stored and not deleted. PostgreSQL
 * refuses NUL characters in text and jsonb, so they become U+FFFD; counts are clamped to integers.
 */
function toRow(r: StoredResponse): unknown[] {
  const keepContent = r.store && r.deletedAt === null;
  const time = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return [
    r.id,
    text(r.sessionId),
    r.previousResponseId,
    r.ownerHash,
    text(r.model),
    r.store,
    keepContent ? jsonText(r.input) : null,
    keepContent && r.instructions !== null ? text(r.instructions) : null,
    keepContent ? jsonText(r.output) : null,
    jsonText(r.params),
    jsonText(r.metadata),
    r.status,
    jsonText(r.error),
    jsonText(r.incompleteDetails),
    count(r.usage?.input_tokens),
    count(r.usage?.output_tokens),
    count(r.usage?.total_tokens),
    count(r.usage?.input_tokens_details?.cached_tokens),
    count(r.usage?.output_tokens_details?.reasoning_tokens),
    r.historySource,
    r.conversationId ?? null,
    time(r.createdAt),
    time(r.completedAt),
    time(r.deletedAt),
  ];
}

function fromRecord(row: ResponseRecord): StoredResponse {
  return {
    id: row.id,
    sessionId: row.sessionId,
    previousResponseId: row.parentResponseId,
    ownerHash: row.ownerHash,
    model: row.model,
    store: row.store,
    input: (row.input ?? []) as unknown as ConversationItem[],
    instructions: row.instructions,
    output: (row.output ?? []) as unknown as ConversationItem[],
    params: row.params as unknown as ResponseParams,
    metadata: (row.metadata ?? {}) as Record<string, string>,
    status: row.status as ResponseStatus,
    error: row.error as StoredResponse['error'],
    incompleteDetails: row.incompleteDetails as StoredResponse['incompleteDetails'],
    usage: {
      ...EMPTY_USAGE,
      input_tokens: row.inputTokens,
      input_tokens_details: { cached_tokens: row.cachedTokens },
      output_tokens: row.outputTokens,
      output_tokens_details: { reasoning_tokens: row.reasoningTokens },
      total_tokens: row.totalTokens,
    },
    historySource: (row.historySource ?? 'none') as HistorySource,
    ...(row.conversationId !== null ? { conversationId: row.conversationId } : {}),
    createdAt: row.createdAt.getTime(),
    completedAt: row.completedAt?.getTime() ?? null,
    deletedAt: row.deletedAt?.getTime() ?? null,
  };
}

/** A row of the raw recursive query: snake_case columns. */
interface RawRow {
  id: string;
  session_id: string;
  parent_response_id: string | null;
  owner_hash: string;
  model: string;
  store: boolean;
  input: unknown;
  instructions: string | null;
  output: unknown;
  params: unknown;
  metadata: unknown;
  status: string;
  error: unknown;
  incomplete_details: unknown;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  history_source: string | null;
  conversation_id: string | null;
  created_at: Date;
  completed_at: Date | null;
  deleted_at: Date | null;
}

function fromRawRow(row: RawRow): StoredResponse {
  return fromRecord({
    id: row.id,
    sessionId: row.session_id,
    parentResponseId: row.parent_response_id,
    ownerHash: row.owner_hash,
    model: row.model,
    store: row.store,
    input: row.input as Prisma.JsonValue,
    instructions: row.instructions,
    output: row.output as Prisma.JsonValue,
    params: row.params as Prisma.JsonValue,
    metadata: row.metadata as Prisma.JsonValue,
    status: row.status,
    error: row.error as Prisma.JsonValue,
    incompleteDetails: row.incomplete_details as Prisma.JsonValue,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    totalTokens: row.total_tokens,
    cachedTokens: row.cached_tokens,
    reasoningTokens: row.reasoning_tokens,
    historySource: row.history_source,
    conversationId: row.conversation_id,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    deletedAt: row.deleted_at,
  });
}
