// The tz= parameter: days, weeks and months of an IANA time zone. The zone is checked against the
// names PostgreSQL itself knows (pg_timezone_names), because PostgreSQL is what computes the
// buckets: a name Bun's Intl knows but the server's tzdata does not would otherwise fail in SQL.
import type { Sql } from "../db/client";
import { invalidQuery } from "../http/errors";
import { param } from "../http/params";

export const UTC = "UTC";

export const TZ_ACCEPTS = "an IANA time zone name as in PostgreSQL's pg_timezone_names, e.g. Europe/Berlin, America/New_York, Asia/Kolkata or UTC";

export const TzParam = {
  tz: param({
    pattern: "^[A-Za-z][A-Za-z0-9_+\\-/]{0,63}$",
    maxLength: 64,
    description:
      "Time zone of the day, week and month buckets (IANA name, default UTC). Days follow the zone's daylight-saving changes (23- and 25-hour days).",
    accepts: TZ_ACCEPTS,
  }),
};

/**
 * The zone names PostgreSQL knows, read once per process (about 600 names; they change only with
 * the server's tzdata). posix/ and right/ are copies of the same zones (right/ with leap seconds,
 * which no timestamp here has), so they are not offered.
 */
export class ZoneNames {
  private names?: Promise<Map<string, string>>;

  constructor(private readonly sql: Sql) {}

  private load(): Promise<Map<string, string>> {
    this.names ??= this.sql<{ name: string }[]>`
      select name from pg_timezone_names where name not like 'posix/%' and name not like 'right/%'`.then(
      (rows) => new Map(rows.map(({ name }) => [name.toLowerCase(), name])),
      (error) => {
        this.names = undefined;
        throw error;
      },
    );
    return this.names;
  }

  /** The zone of `text` in PostgreSQL's spelling (case-insensitive match), UTC when absent or empty; else a 400 naming tz. */
  async resolve(text: string | undefined): Promise<string> {
    if (text === undefined || text === "") return UTC;
    const name = (await this.load()).get(text.toLowerCase());
    if (name === undefined) throw invalidQuery({ tz: [`${JSON.stringify(text)} is not a time zone PostgreSQL knows: expected ${TZ_ACCEPTS}.`] });
    return name;
  }
}
