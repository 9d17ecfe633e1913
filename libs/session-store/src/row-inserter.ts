import { describeDatabaseError } from '@app/database';
import { PreparedRow, ResponseRepository } from './response-repository';
import { StoredResponse } from './stored-response';

/** A row that can never be written: its own data is at fault, not the database. */
export interface RefusedRow {
  row: StoredResponse;
  reason: string;
}

export interface InsertOutcome {
  /** Rows PostgreSQL did not have yet (the rest were already written: inserts are idempotent). */
  inserted: number;
  refused: RefusedRow[];
}

/**
 * Writes rows to PostgreSQL so that no single row can hold the others back: a row whose data cannot
 * become SQL (any exception while preparing it) or that PostgreSQL refuses on its own (SQLSTATE
 * class 22 data exception, 23 integrity violation, 54 program limit such as a too deep jsonb) is set aside and returned; every other row is written. Rejects only when
 * PostgreSQL itself failed (an outage, a missing table): then nothing was set aside and the caller
 * keeps the whole batch for a retry.
 */
export async function insertOrSetAside(repository: ResponseRepository, rows: StoredResponse[]): Promise<InsertOutcome> {
  const refused: RefusedRow[] = [];
  const prepared: Array<{ row: StoredResponse; values: PreparedRow }> = [];
  for (const row of rows) {
    try {
      prepared.push({ row, values: repository.prepare(row) });
    } catch (error) {
      refused.push({ row, reason: `could not be turned into SQL: ${describeError(error)}` });
    }
  }
  try {
    return { inserted: await repository.insertPrepared(prepared.map(({ values }) => values)), refused };
  } catch (error) {
    if (!isRowError(error)) throw error;
  }
  let inserted = 0;
  for (const { row, values } of prepared) {
    try {
      inserted += await repository.insertPrepared([values]);
    } catch (error) {
      if (!isRowError(error)) throw error;
      refused.push({ row, reason: describeDatabaseError(error) });
    }
  }
  return { inserted, refused };
}

const ROW_ERROR_CLASSES = ['22', '23', '54'];

/** PostgreSQL refused the data of a row, not the connection. */
function isRowError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  const code = /Code: `([0-9A-Z]{5})`/.exec(message)?.[1] ?? (error as { code?: unknown }).code;
  return typeof code === 'string' && ROW_ERROR_CLASSES.includes(code.slice(0, 2));
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
