// Every statement about import_progress (migration 012): where an import of the original's table
// stands, per source and table. Values are always bound parameters.
import type { Sql } from "../../db/client";

export interface ImportProgress {
  /** The highest original id whose batch is committed here, as text ("0" before the first). */
  lastId: string;
  rowsRead: number;
}

export async function readImportProgress(sql: Sql, source: string, table: string): Promise<ImportProgress | null> {
  const [row] = await sql<{ last_id: string; rows_read: string }[]>`
    select last_id::text as last_id, rows_read::text as rows_read
    from import_progress where source = ${source} and source_table = ${table}`;
  return row ? { lastId: row.last_id, rowsRead: Number(row.rows_read) } : null;
}

export interface ProgressStep {
  lastId: string;
  read: number;
  stored: number;
  duplicates: number;
  deadLettered: number;
}

/** Moves the position forward after a committed batch; never backwards (greatest), whoever writes last. */
export async function recordImportProgress(sql: Sql, source: string, table: string, step: ProgressStep): Promise<void> {
  await sql`
    insert into import_progress as p (source, source_table, last_id, rows_read, stored, duplicates, dead_lettered)
    values (${source}, ${table}, ${step.lastId}::bigint, ${step.read}, ${step.stored}, ${step.duplicates}, ${step.deadLettered})
    on conflict (source, source_table) do update set
      last_id = greatest(p.last_id, excluded.last_id),
      rows_read = p.rows_read + excluded.rows_read,
      stored = p.stored + excluded.stored,
      duplicates = p.duplicates + excluded.duplicates,
      dead_lettered = p.dead_lettered + excluded.dead_lettered,
      updated_at = now()`;
}
