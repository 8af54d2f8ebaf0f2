// SQL composed from fragments, never from strings: the joins every repository needs.
import type postgres from "postgres";
import type { Sql } from "./client";

export type Fragment = postgres.Fragment;

/** The fragments joined by `separator` (a fragment itself, e.g. sql`, `); at least one part. */
export function joined(sql: Sql, parts: readonly Fragment[], separator: Fragment): Fragment {
  return parts.slice(1).reduce((acc, part) => sql`${acc}${separator}${part}`, parts[0]!);
}

/** `a, b, c`. */
export const commaList = (sql: Sql, parts: readonly Fragment[]) => joined(sql, parts, sql`, `);

/** `where a and b …`; `where true` when there is nothing to filter. */
export function whereAll(sql: Sql, parts: readonly Fragment[]): Fragment {
  return parts.length === 0 ? sql`where true` : sql`where ${joined(sql, parts, sql` and `)}`;
}

/** `a union all b …`. */
export const unionAll = (sql: Sql, parts: readonly Fragment[]) => joined(sql, parts, sql` union all `);
