import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService, ResponseRecord } from '@app/database';
import { ConversationItem, EMPTY_USAGE, ResponseParams } from './response-items';
import { HistorySource, ResponseStatus, StoredResponse } from './stored-response';

/** Hard stop for a recursive chain query. */
const MAX_CHAIN_DEPTH = 100_000;

/** PostgreSQL, the durable record. Every lookup is scoped to the owner. */
@Injectable()
export class ResponseRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Idempotent: rows whose id already exists are skipped. Resolves how many were inserted. */
  async insertMany(responses: StoredResponse[]): Promise<number> {
    const result = await this.prisma.responseRecord.createMany({ data: responses.map(toRecord), skipDuplicates: true });
    return result.count;
  }

  /** The resolvable chain ending at `id`, newest first, in one recursive query. */
  async chain(id: string, ownerHash: string): Promise<StoredResponse[]> {
    const rows = await this.prisma.$queryRaw<RawRow[]>`
      WITH RECURSIVE chain AS (
        SELECT r.*, 1 AS depth FROM responses r
         WHERE r.id = ${id} AND r.owner_hash = ${ownerHash}
        UNION ALL
        SELECT p.*, c.depth + 1 FROM responses p
          JOIN chain c ON p.id = c.parent_response_id
         WHERE p.owner_hash = ${ownerHash} AND c.depth < ${MAX_CHAIN_DEPTH}
      )
      SELECT * FROM chain ORDER BY depth`;
    return rows.map(fromRawRow);
  }

  async find(id: string, ownerHash: string): Promise<StoredResponse | null> {
    const row = await this.prisma.responseRecord.findFirst({ where: { id, ownerHash } });
    return row ? fromRecord(row) : null;
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

function json(value: unknown): Prisma.InputJsonValue {
  return value as Prisma.InputJsonValue;
}

function toRecord(r: StoredResponse): Prisma.ResponseRecordCreateManyInput {
  const keepContent = r.store && r.deletedAt === null;
  return {
    id: r.id,
    sessionId: r.sessionId,
    parentResponseId: r.previousResponseId,
    ownerHash: r.ownerHash,
    model: r.model,
    store: r.store,
    input: keepContent ? json(r.input) : Prisma.DbNull,
    instructions: keepContent ? r.instructions : null,
    output: keepContent ? json(r.output) : Prisma.DbNull,
    params: json(r.params),
    metadata: json(r.metadata),
    status: r.status,
    error: r.error ? json(r.error) : Prisma.DbNull,
    incompleteDetails: r.incompleteDetails ? json(r.incompleteDetails) : Prisma.DbNull,
    inputTokens: r.usage.input_tokens,
    outputTokens: r.usage.output_tokens,
    totalTokens: r.usage.total_tokens,
    cachedTokens: r.usage.input_tokens_details.cached_tokens,
    reasoningTokens: r.usage.output_tokens_details.reasoning_tokens,
    historySource: r.historySource,
    createdAt: new Date(r.createdAt),
    completedAt: r.completedAt === null ? null : new Date(r.completedAt),
    deletedAt: r.deletedAt === null ? null : new Date(r.deletedAt),
  };
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
    createdAt: row.created_at,
    completedAt: row.completed_at,
    deletedAt: row.deleted_at,
  });
}
