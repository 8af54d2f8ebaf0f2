// GET /api/outcomes/export/: every filter of the list, CSV (RFC 4180) and NDJSON that parse back to
// exactly the list endpoint's records, format negotiation, one snapshot, a 200 000-row export, and
// a client that goes away mid-stream leaving no transaction open. Memory while exporting is
// measured by the bench (bench/export.ts), not here.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createApp } from "../../src/app";
import { createLogger } from "../../src/log";
import { acceptance, negotiateExportFormat, parseAccept } from "../../src/outcomes/outcomes.export-format";
import { OutcomeExportQuery } from "../../src/outcomes/outcomes.schema";
import { createTestDatabase, type TestDatabase, testConfig } from "../support/db";
import { insertGeneratedOutcomes, insertOutcomes, OUTCOMES, type OutcomeFixture, type StoredOutcome } from "../support/fixtures";
import { testApp } from "../support/http";
import { FILTER_CASES, newestFirst, RECORD_FIELDS } from "../support/outcomes-model";
import { waitFor } from "../support/wait";

setDefaultTimeout(60_000);

/** Values a CSV writer gets wrong: separators, quotes, every line break, non-ASCII, a null. */
const AWKWARD: OutcomeFixture[] = [
  {
    ...OUTCOMES[0]!,
    bid_id: 'q-1 "quoted", with comma',
    user_id: "u-ünïcødé-😀-日本語",
    site_domain: "crlf\r\nsite.example",
    user_interests: ["a,b", 'say "hi"', "two\nlines"],
    timestamp: "2025-10-22T01:02:03.456789Z",
    created_at: "2025-10-27T11:00:00.000000Z",
  },
  {
    ...OUTCOMES[1]!,
    bid_id: '"starts-with-quote',
    user_id: "u-lf\nonly",
    site_domain: "cr\ronly.example",
    timestamp: "2025-10-22T01:02:03.000000Z",
    created_at: "2025-10-27T11:00:00.000000Z",
  },
  {
    ...OUTCOMES[2]!,
    bid_id: "q-3",
    user_id: " spaced , value ",
    site_domain: null,
    user_interests: [],
    timestamp: "2025-10-22T00:00:00.000000Z",
    created_at: "2025-10-27T11:00:00.000000Z",
  },
];

let db: TestDatabase;
let rows: StoredOutcome[];
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  db = await createTestDatabase("outcomes_export");
  rows = [...(await insertOutcomes(db.setup)), ...(await insertOutcomes(db.setup, AWKWARD))];
  api = testApp(db.config, db.sql);
});

afterAll(async () => {
  await db?.drop();
});

/** RFC 4180 read strictly, written here so the test does not trust the code under test: CRLF ends a record, a bare CR or LF must be quoted. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') field += text[i++];
      else quoted = false;
    } else if (c === '"') {
      if (field !== "" || wasQuoted) throw new Error(`a quote inside an unquoted field at ${i}`);
      quoted = wasQuoted = true;
    } else if (c === ",") {
      record.push(field);
      field = "";
      wasQuoted = false;
    } else if (c === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      wasQuoted = false;
      i++;
    } else if (c === "\r" || c === "\n") {
      throw new Error(`an unquoted line break at ${i}`);
    } else {
      field += c;
    }
  }
  if (quoted || field !== "" || record.length > 0) throw new Error("the last record does not end in CRLF");
  return records;
}

/** A JSON record as the CSV must carry it: text as is, null empty, lists as their JSON. */
function csvCells(record: Record<string, unknown>): string[] {
  return RECORD_FIELDS.map((name) => {
    const value = record[name];
    return value === null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  });
}

/** Every record the list endpoint gives for `query`, in its order, following its cursors. */
async function listRecords(query: string): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  let next: string | null = `/api/outcomes/?page_size=1000&cursor=${query ? `&${query}` : ""}`;
  while (next) {
    const page = await api.get(next);
    expect(page.status).toBe(200);
    records.push(...page.body.results);
    next = page.body.next ? page.body.next.replace(/^http:\/\/[^/]+/, "") : null;
  }
  return records;
}

const parseNdjson = (text: string) => {
  expect(text === "" || text.endsWith("\n")).toBe(true);
  return text === ""
    ? []
    : text
        .slice(0, -1)
        .split("\n")
        .map((line) => JSON.parse(line));
};

const SEARCH_AND_ORDER_CASES = [
  "search=u-a",
  "search=b-1&win_status=true",
  "search=%22",
  "ordering=win_price",
  "ordering=-bid_price,created_at",
  "search=u&ordering=id",
];

describe("GET /api/outcomes/export/ filters", () => {
  for (const { query, keep } of FILTER_CASES) {
    test(`with ${query || "no filter"} gives as NDJSON exactly the list's records, in its order`, async () => {
      const { status, text } = await api.get(`/api/outcomes/export/?format=ndjson${query ? `&${query}` : ""}`);
      expect(status).toBe(200);
      const exported = parseNdjson(text);
      expect(exported.map((r: { id: number }) => r.id)).toEqual(newestFirst(rows.filter(keep)));
      expect(exported).toEqual(await listRecords(query));
    });
  }

  for (const query of SEARCH_AND_ORDER_CASES) {
    test(`with ${query} gives as CSV and as NDJSON the list's records, in its order`, async () => {
      const expected = await listRecords(query);
      expect(expected.length).toBeGreaterThan(0);
      const ndjson = await api.get(`/api/outcomes/export/?format=ndjson&${query}`);
      expect(parseNdjson(ndjson.text)).toEqual(expected);
      const csv = await api.get(`/api/outcomes/export/?format=csv&${query}`);
      expect(parseCsv(csv.text)).toEqual([[...RECORD_FIELDS], ...expected.map(csvCells)]);
    });
  }

  test("refuses an invalid filter with the list's own 400", async () => {
    const query = "min_price=abc&from=2025-02-30&win_status=maybe";
    const exported = await api.get(`/api/outcomes/export/?${query}`);
    const listed = await api.get(`/api/outcomes/?${query}`);
    expect(exported.status).toBe(400);
    expect(exported.body).toEqual(listed.body);
  });

  test("refuses page, page_size and cursor with a 400 naming each, since an export is every matching row", async () => {
    const { status, body } = await api.get("/api/outcomes/export/?page=2&page_size=10&cursor=&user_id=u-bob");
    expect(status).toBe(400);
    expect(body.detail).toBe("Invalid query parameters: page, page_size, cursor.");
    expect(body.errors.page[0]).toBe(
      "page is not accepted here: the export streams every matching row in one response; narrow it with the filters (e.g. from and to) instead.",
    );
  });

  test("refuses format=xml with a 400 naming the formats", async () => {
    const { status, body } = await api.get("/api/outcomes/export/?format=xml");
    expect(status).toBe(400);
    expect(body.errors).toEqual({ format: ['"xml" is not valid: expected csv or ndjson.'] });
  });
});

describe("GET /api/outcomes/export/ as CSV", () => {
  test("quotes commas, quotes, CR, LF and keeps unicode, per RFC 4180, with CRLF line ends", async () => {
    // Only the awkward rows are before 2025-10-23.
    const { text } = await api.get("/api/outcomes/export/?format=csv&to=2025-10-23");
    const [first, second, third] = AWKWARD.map((fixture) => rows.find((row) => row.bid_id === fixture.bid_id)!);
    expect(text).toBe(
      [
        RECORD_FIELDS.join(","),
        `${first!.id},"q-1 ""quoted"", with comma",u-ünïcødé-😀-日本語,"crlf\r\nsite.example",true,0.10,0.10,USD,true,2025-10-22T01:02:03.456789Z,2025-10-25T00:00:00.049Z,"[""a,b"",""say \\""hi\\"""",""two\\nlines""]",true,0,2025-10-27T11:00:00Z,2025-10-27T11:00:00Z`,
        `${second!.id},"""starts-with-quote","u-lf\nonly","cr\ronly.example",true,0.20,0.20,USD,false,2025-10-22T01:02:03Z,2025-10-25T00:00:00.05Z,"[""sports""]",true,0,2025-10-27T11:00:00Z,2025-10-27T11:00:00Z`,
        `${third!.id},q-3," spaced , value ",,true,0.70,0.70,USD,true,2025-10-22T00:00:00Z,2025-10-25T00:00:00.051Z,[],true,0,2025-10-27T11:00:00Z,2025-10-27T11:00:00Z`,
        "",
      ].join("\r\n"),
    );
    // Strictly parsed back, every awkward value is whole again.
    const parsed = parseCsv(text);
    expect(parsed.slice(1).map((cells) => [cells[1], cells[2], cells[3], cells[11]])).toEqual([
      ['q-1 "quoted", with comma', "u-ünïcødé-😀-日本語", "crlf\r\nsite.example", JSON.stringify(["a,b", 'say "hi"', "two\nlines"])],
      ['"starts-with-quote', "u-lf\nonly", "cr\ronly.example", '["sports"]'],
      ["q-3", " spaced , value ", "", "[]"],
    ]);
  });

  test("renders decimals and instants as the JSON records do", async () => {
    const { text } = await api.get("/api/outcomes/export/?format=csv&search=b-13");
    const [header, cells] = parseCsv(text);
    const record = Object.fromEntries(header!.map((name, i) => [name, cells![i]]));
    expect(record).toMatchObject({
      win_price: "12345.678901",
      bid_price: "12345.678901",
      timestamp: "2025-10-25T18:45:10.654321Z",
      auction_timestamp: "2025-10-25T18:45:10.7Z",
    });
    const listed = (await api.get("/api/outcomes/?search=b-13")).body.results[0];
    expect(record.auction_timestamp).toBe(listed.auction_timestamp);
    expect(record.profit_margin).toBe(String(listed.profit_margin));
  });

  test("answers a download: CSV content type, an attachment with a dated file name, not cached", async () => {
    const { status, headers } = await api.get("/api/outcomes/export/?format=csv");
    expect(status).toBe(200);
    expect(headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(headers.get("content-disposition")).toMatch(/^attachment; filename="outcomes-\d{8}T\d{6}Z\.csv"$/);
    expect(headers.get("cache-control")).toBe("no-store");
  });

  test("with nothing matching is the header line alone", async () => {
    const { status, text } = await api.get("/api/outcomes/export/?user_id=nobody");
    expect(status).toBe(200);
    expect(text).toBe(`${RECORD_FIELDS.join(",")}\r\n`);
  });
});

describe("GET /api/outcomes/export/ format negotiation", () => {
  const exportWith = (query: string, accept?: string) => api.get(`/api/outcomes/export/${query}`, accept === undefined ? {} : { accept });

  test("Accept: application/x-ndjson gives NDJSON, Accept: text/csv CSV, */* or none CSV", async () => {
    for (const [accept, type] of [
      ["application/x-ndjson", "application/x-ndjson"],
      ["text/csv", "text/csv; charset=utf-8; header=present"],
      ["*/*", "text/csv; charset=utf-8; header=present"],
      ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/csv; charset=utf-8; header=present"],
      ["text/csv;q=0.5, application/x-ndjson", "application/x-ndjson"],
      [undefined, "text/csv; charset=utf-8; header=present"],
    ] as const) {
      const { status, headers } = await exportWith("?search=b-0", accept);
      expect({ accept, status, type: headers.get("content-type") }).toEqual({ accept, status: 200, type });
    }
    const ndjson = await exportWith("?search=b-0", "application/x-ndjson");
    expect(ndjson.headers.get("content-disposition")).toMatch(/filename="outcomes-\d{8}T\d{6}Z\.ndjson"$/);
  });

  test("format wins over an Accept header that allows it", async () => {
    const { headers } = await exportWith("?format=ndjson", "text/csv, */*;q=0.1");
    expect(headers.get("content-type")).toBe("application/x-ndjson");
  });

  test("answers 406 naming the accepted types when Accept allows neither format", async () => {
    const { status, headers, body } = await exportWith("", "application/json");
    expect(status).toBe(406);
    expect(headers.get("content-type")).toBe("application/json");
    expect(body.detail).toBe(
      "The export is available as text/csv or application/x-ndjson, and the Accept header (application/json) allows neither: send Accept: text/csv or application/x-ndjson, or format=csv or format=ndjson.",
    );
  });

  test("answers 406 when format and Accept disagree", async () => {
    const { status, body } = await exportWith("?format=csv", "application/x-ndjson");
    expect(status).toBe(406);
    expect(body.detail).toContain("format=csv asks for text/csv, which the Accept header (application/x-ndjson) does not allow");
    expect((await exportWith("?format=csv", "text/csv;q=0, */*")).status).toBe(406);
  });

  test("reads q-values and picks the most specific matching range", () => {
    const ranges = parseAccept("text/*;q=0.3, text/csv;q=0, application/x-ndjson;q=0.7, */*;q=0.1, nonsense");
    expect(acceptance(ranges, "text/csv")).toBe(0);
    expect(acceptance(ranges, "application/x-ndjson")).toBe(0.7);
    expect(acceptance(ranges, "text/plain")).toBe(0.3);
    expect(negotiateExportFormat(undefined, "text/*")).toBe("csv");
    expect(negotiateExportFormat(undefined, "application/*")).toBe("ndjson");
    expect(negotiateExportFormat(undefined, "")).toBe("csv");
    expect(negotiateExportFormat("ndjson", null)).toBe("ndjson");
  });

  test("the format parameter offers exactly the formats the export writes", () => {
    expect(OutcomeExportQuery.properties.format.pattern).toBe("^(csv|ndjson)$");
  });
});

describe("GET /api/outcomes/export/ with API_TOKENS", () => {
  const TOKEN = "export-test-token-0123456789";

  test("refuses a request without the token with 401, and exports with it", async () => {
    const guarded = testApp(testConfig(db.url, { API_TOKENS: TOKEN }), db.sql);
    const refused = await guarded.get("/api/outcomes/export/?format=csv");
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ detail: "Authentication credentials were not provided." });
    expect((await guarded.get("/api/outcomes/export/", { authorization: "Bearer wrong-token-0123456789" })).status).toBe(401);
    const allowed = await guarded.get("/api/outcomes/export/?format=ndjson", { authorization: `Bearer ${TOKEN}` });
    expect(allowed.status).toBe(200);
    expect(parseNdjson(allowed.text)).toHaveLength(rows.length);
  });
});

describe("a large export over a real socket", () => {
  const BULK = 200_000;
  let bulk: TestDatabase;
  let server: ReturnType<typeof Bun.serve>;
  let base: string;

  beforeAll(async () => {
    bulk = await createTestDatabase("outcomes_export_bulk");
    await insertGeneratedOutcomes(bulk.setup, BULK, { userId: "bulk", wins: 1000 });
    const app = createApp({ config: bulk.config, sql: bulk.sql, log: createLogger("ERROR") });
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
    base = `http://127.0.0.1:${server.port}`;
  }, 120_000);

  afterAll(async () => {
    server?.stop(true);
    await bulk?.drop();
  });

  /** Transactions open on the test database, other than the one asking. */
  const openTransactions = async () => {
    const [row] = await bulk.setup<{ n: string }[]>`
      select count(*) as n from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and xact_start is not null`;
    return Number(row!.n);
  };

  /** Newlines in the rest of the body, read chunk by chunk (the test holds no more than the export does). */
  async function countLines(reader: ReadableStreamDefaultReader<Uint8Array>, seen: Uint8Array[] = []): Promise<{ lines: number; late: boolean; last: string }> {
    const decoder = new TextDecoder();
    let lines = 0;
    let late = false;
    let rest = "";
    let last = "";
    const take = (chunk: Uint8Array) => {
      const complete = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = complete.pop()!;
      lines += complete.length;
      if (complete.length > 0) last = complete[complete.length - 1]!;
      late ||= complete.some((line) => line.includes('"user_id":"late"'));
    };
    for (const chunk of seen) take(chunk);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      take(value);
    }
    expect(rest).toBe("");
    return { lines, late, last };
  }

  test("streams all 200 000 rows from one snapshot: rows stored meanwhile are not in it", async () => {
    const response = await fetch(`${base}/api/outcomes/export/?format=ndjson`);
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    // The export is under way: its transaction is open while the rest waits for the client.
    expect(await openTransactions()).toBe(1);
    await insertGeneratedOutcomes(bulk.setup, 5, { userId: "late" });
    const { lines, late, last } = await countLines(reader, [first.value!]).finally(() => bulk.setup`delete from auction_outcomes where user_id = 'late'`);
    expect(lines).toBe(BULK);
    expect(late).toBe(false);
    // Newest first: the last line is the oldest outcome, bulk-1.
    expect(JSON.parse(last).bid_id).toBe("bulk-1");
    await waitFor("the export's transaction to end", async () => (await openTransactions()) === 0, { timeoutMs: 5000 });
  });

  test("a client that disconnects mid-stream leaves no transaction open", async () => {
    const abort = new AbortController();
    const response = await fetch(`${base}/api/outcomes/export/?format=csv`, { signal: abort.signal });
    const reader = response.body!.getReader();
    await reader.read();
    expect(await openTransactions()).toBe(1);
    abort.abort();
    await waitFor("the abandoned export's transaction to end", async () => (await openTransactions()) === 0, { timeoutMs: 10_000 });
    // The pool is whole again: the next export runs to its end.
    const again = await fetch(`${base}/api/outcomes/export/?format=csv&to=2025-11-01T00:00:11Z`);
    expect((await again.text()).split("\r\n")).toHaveLength(1 + 10 + 1);
  });

  test("runs at most half the pool's connections as exports; one more gets a 503 with Retry-After", async () => {
    // The test pool has 4 connections: 2 exports at once.
    const held = await Promise.all([1, 2].map(() => fetch(`${base}/api/outcomes/export/?format=csv`)));
    const readers = held.map((response) => response.body!.getReader());
    await Promise.all(readers.map((reader) => reader.read()));
    const refused = await fetch(`${base}/api/outcomes/export/?format=csv`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(((await refused.json()) as { detail: string }).detail).toBe(
      "2 exports are running, as many as this server runs at once (half of DB_POOL_MAX); try again shortly.",
    );
    // The JSON endpoints still have connections meanwhile.
    expect((await fetch(`${base}/api/outcomes/?page_size=1`)).status).toBe(200);
    await Promise.all(readers.map((reader) => reader.cancel()));
    await waitFor("both exports to end", async () => (await openTransactions()) === 0, { timeoutMs: 10_000 });
    expect((await fetch(`${base}/api/outcomes/export/?format=csv&user_id=nobody`)).status).toBe(200);
  });
});
