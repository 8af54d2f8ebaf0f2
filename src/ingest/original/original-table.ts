// The original Django service's table, read where it lives (its own database, on this server or
// another): where it is, whether it has the columns the import reads, and one keyset page of it at
// a time. Nothing here writes; the import (import-original.ts) turns the pages into messages.

import { UsageError } from "../../cli/options";
import type { DatabaseConfig } from "../../config";
import { createSql, type Sql } from "../../db/client";

export const DEFAULT_ORIGINAL_TABLE = "outcomes_auctionoutcome";

/** What the import reads of the original's row, and the types it accepts for each. */
export const REQUIRED_COLUMNS: Record<string, readonly string[]> = {
  id: ["bigint", "integer"],
  timestamp: ["timestamp with time zone", "timestamp without time zone"],
  raw_data: ["jsonb", "json"],
  bid_id: ["character varying", "text"],
};

export interface OriginalSource {
  /** postgres:// URL as given, password included: only ever handed to the client. */
  url: string;
  /** host:port/database, without user or password: the source's name in logs, dead letters and progress. */
  name: string;
  password: string;
}

/** Parses --source-url; a UsageError says what is accepted. */
export function parseSourceUrl(text: string): OriginalSource {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`Invalid --source-url: expected postgres://user[:password]@host[:port]/database (got something that is not a URL).`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new UsageError(`Invalid --source-url: expected a postgres:// or postgresql:// URL (got ${url.protocol}//…).`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  const host = url.hostname || url.searchParams.get("host") || "";
  if (host === "" || database === "") {
    throw new UsageError(`Invalid --source-url: expected postgres://user[:password]@host[:port]/database with a host and a database name.`);
  }
  return { url: text, name: `${host}:${url.port || "5432"}/${database}`, password: decodeURIComponent(url.password) };
}

/** A pool on the original's database: one reader, the same text timestamps and UTC session as ours. */
export function connectOriginal(source: OriginalSource, ours: DatabaseConfig): Sql {
  return createSql({ ...ours, url: source.url }, { max: 1, applicationName: "helios-analytics-import", statementTimeoutMs: 0 });
}

/** The source cannot be read as the original's table: the message says what is missing. */
export class OriginalTableError extends Error {}

export interface ResolvedTable {
  schema: string;
  name: string;
  /** schema.name, for people and for the progress key. */
  qualified: string;
}

/** Finds `table` (as SQL would: `name` on the search path or `schema.name`) and checks its columns. */
export async function resolveOriginalTable(sql: Sql, source: OriginalSource, table: string): Promise<ResolvedTable> {
  const [found] = await sql<{ schema: string; name: string }[]>`
    select n.nspname as schema, c.relname as name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.oid = to_regclass(${table}) and c.relkind in ('r', 'p', 'v', 'm', 'f')`;
  if (!found)
    throw new OriginalTableError(`Table ${table} not found in ${source.name}: pass --table with the original's table (default ${DEFAULT_ORIGINAL_TABLE}).`);
  const columns = await sql<{ name: string; type: string }[]>`
    select a.attname as name, format_type(a.atttypid, null) as type
    from pg_attribute a
    where a.attrelid = to_regclass(${table}) and a.attnum > 0 and not a.attisdropped`;
  const types = new Map(columns.map((column) => [column.name, column.type]));
  const missing = Object.keys(REQUIRED_COLUMNS).filter((name) => !types.has(name));
  const mistyped = Object.entries(REQUIRED_COLUMNS)
    .filter(([name, accepted]) => types.has(name) && !accepted.includes(types.get(name)!))
    .map(([name, accepted]) => `${name} is ${types.get(name)}, expected ${accepted.join(" or ")}`);
  const qualified = `${found.schema}.${found.name}`;
  if (missing.length > 0 || mistyped.length > 0) {
    const problems = [...(missing.length > 0 ? [`missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`] : []), ...mistyped];
    throw new OriginalTableError(
      `Table ${qualified} in ${source.name} is not the original's outcomes table: ${problems.join("; ")} (the import reads ${Object.keys(REQUIRED_COLUMNS).join(", ")}).`,
    );
  }
  return { schema: found.schema, name: found.name, qualified };
}

/** One row of the original as the import reads it. */
export interface OriginalRow {
  /** bigint as text. */
  id: string;
  bid_id: string | null;
  /** The stored `timestamp` column (the original's insert time), PostgreSQL text. */
  timestamp: string | null;
  /** raw_data as JSON text; null when SQL NULL, JSON null or an empty object: no message kept. */
  raw_data: string | null;
}

const tableOf = (sql: Sql, table: ResolvedTable) => sql`${sql(table.schema)}.${sql(table.name)}`;

/** The next `limit` rows after `afterId` in id order: keyset, so each page costs the same at any depth. */
export function readPage(sql: Sql, table: ResolvedTable, afterId: string, limit: number): Promise<OriginalRow[]> {
  return sql<OriginalRow[]>`
    select o.id::text as id, o.bid_id::text as bid_id, o."timestamp",
           nullif(nullif(o.raw_data::jsonb, 'null'::jsonb), '{}'::jsonb)::text as raw_data
    from ${tableOf(sql, table)} o
    where o.id > ${afterId}::bigint
    -- o.id, not the output column id (text): ids must come in numeric order.
    order by o.id
    limit ${limit}`;
}

/** The id range still ahead of `afterId` (for the ETA): the primary key answers both ends at once. */
export async function idRangeAfter(sql: Sql, table: ResolvedTable, afterId: string): Promise<{ first: string | null; last: string | null }> {
  const [row] = await sql<{ first: string | null; last: string | null }[]>`
    select (select min(id) from ${tableOf(sql, table)} where id > ${afterId}::bigint)::text as first,
           (select max(id) from ${tableOf(sql, table)})::text as last`;
  return { first: row!.first, last: row!.last };
}
