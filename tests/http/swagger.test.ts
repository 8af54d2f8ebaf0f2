// /swagger and /swagger/json: every route, parameter, response body and error body, described
// from the same TypeBox schemas that validate and render.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createTestDatabase, type TestDatabase, testConfig } from "../support/db";
import { insertOutcomes } from "../support/fixtures";
import { testApp } from "../support/http";
import { RECORD_FIELDS } from "../support/outcomes-model";

setDefaultTimeout(30_000);

let db: TestDatabase;
let api: ReturnType<typeof testApp>;
let doc: any;
let someId: number;

beforeAll(async () => {
  db = await createTestDatabase("swagger");
  someId = (await insertOutcomes(db.setup))[0]!.id;
  api = testApp(db.config, db.sql);
  doc = (await api.get("/swagger/json")).body;
});

afterAll(async () => {
  await db.drop();
});

const FILTERS = ["user_id", "site_domain", "win_status", "enriched", "min_price", "max_price", "currency", "from", "to"];
const LIST_PARAMS = [...FILTERS, "search", "page", "page_size", "cursor", "ordering"];
const STATS_FIELDS = [
  "total_outcomes",
  "total_wins",
  "total_losses",
  "total_revenue",
  "average_win_price",
  "average_bid_price",
  "enriched_count",
  "win_rate",
  "revenue_by_currency",
];
const BREAKDOWN_PARAMS = [...FILTERS, "search", "by", "order", "limit", "tz", "compare"];
/** A query a route needs to answer 200 (breakdown/ requires by). */
const SAMPLE_QUERY: Record<string, string> = { "/api/outcomes/breakdown/": "?by=site_domain" };

/** Every route of issue 2 as the document names it, with the query parameters it takes. */
const ROUTES: [string, string[]][] = [
  ["/api/", []],
  ["/api/outcomes/", LIST_PARAMS],
  ["/api/outcomes/winners/", LIST_PARAMS],
  ["/api/outcomes/stats/", FILTERS],
  ["/api/outcomes/daily_stats/", [...FILTERS, "tz"]],
  ["/api/outcomes/{id}/", FILTERS],
  ["/api/outcomes/timeseries/", [...FILTERS, "interval", "tz"]],
  ["/api/outcomes/breakdown/", BREAKDOWN_PARAMS],
  ["/api/outcomes/top/", [...FILTERS, "by", "limit"]],
  ["/api/outcomes/price_distribution/", [...FILTERS, "price"]],
  ["/api/outcomes/export/", [...FILTERS, "search", "ordering", "format"]],
  ["/api/ingest/status/", ["from", "to"]],
  ["/healthz", []],
  ["/readyz", []],
];

const schemaOf = (path: string, status: string) => doc.paths[path].get.responses[status].content["application/json"].schema;
const propertyNames = (schema: { properties: Record<string, unknown> }) => Object.keys(schema.properties).sort();

describe("/swagger", () => {
  test("serves the Swagger UI page pointing at the document", async () => {
    const { status, headers, text } = await api.get("/swagger");
    expect(status).toBe(200);
    expect(headers.get("content-type")).toStartWith("text/html");
    expect(text).toContain('<div id="swagger-ui"></div>');
    expect(text).toContain('"url":"swagger/json"');
    expect(text).toContain("<title>Helios Analytics API</title>");
  });
});

describe("/swagger/json", () => {
  test("is an OpenAPI 3 document titled for the service", () => {
    expect(doc.openapi).toStartWith("3.");
    expect(doc.info.title).toBe("Helios Analytics API");
  });

  test("lists every route once, in the original's trailing-slash form, and not itself", () => {
    for (const [path] of ROUTES) expect(Object.keys(doc.paths)).toContain(path);
    expect(Object.keys(doc.paths).filter((path) => path.startsWith("/swagger"))).toEqual([]);
    expect(
      Object.keys(doc.paths)
        .filter((path) => path.startsWith("/api/outcomes"))
        .sort(),
    ).toEqual([
      "/api/outcomes/",
      "/api/outcomes/breakdown/",
      "/api/outcomes/daily_stats/",
      "/api/outcomes/export/",
      "/api/outcomes/price_distribution/",
      "/api/outcomes/stats/",
      "/api/outcomes/timeseries/",
      "/api/outcomes/top/",
      "/api/outcomes/winners/",
      "/api/outcomes/{id}/",
    ]);
  });

  test("every documented route answers with and without the trailing slash", async () => {
    for (const [path] of ROUTES) {
      const concrete = path.replace("{id}", String(someId));
      const other = concrete.endsWith("/") ? concrete.slice(0, -1) : `${concrete}/`;
      for (const variant of [concrete, other]) {
        const { status } = await api.get(variant + (SAMPLE_QUERY[path] ?? ""));
        expect({ variant, status }).toEqual({ variant, status: 200 });
      }
    }
  });

  for (const [path, params] of ROUTES) {
    test(`${path} documents exactly its query parameters, each with a description and a string schema`, () => {
      const parameters = doc.paths[path].get.parameters ?? [];
      const query = parameters.filter((p: { in: string }) => p.in === "query");
      expect(query.map((p: { name: string }) => p.name)).toEqual(params);
      for (const parameter of query) {
        expect(parameter.required).toBe(false);
        expect(typeof parameter.description).toBe("string");
        expect(parameter.schema.type).toBe("string");
      }
    });
  }

  test("the detail route documents its id path parameter", () => {
    const id = doc.paths["/api/outcomes/{id}/"].get.parameters.find((p: { in: string }) => p.in === "path");
    expect(id).toEqual({ name: "id", in: "path", required: true, schema: { type: "integer", minimum: 1 } });
  });

  test("each documented pattern is the one enforced: a value it refuses gets a 400 naming the parameter", async () => {
    for (const parameter of doc.paths["/api/outcomes/"].get.parameters) {
      if (!parameter.schema.pattern) continue;
      const bad = "zz!";
      expect(new RegExp(parameter.schema.pattern).test(bad)).toBe(false);
      const { status, body } = await api.get(`/api/outcomes/?${parameter.name}=${encodeURIComponent(bad)}`);
      expect({ name: parameter.name, status, errors: Object.keys(body.errors) }).toEqual({ name: parameter.name, status: 400, errors: [parameter.name] });
    }
  });

  test("list and winners describe the page envelope with full records", () => {
    for (const path of ["/api/outcomes/", "/api/outcomes/winners/"]) {
      const page = schemaOf(path, "200");
      expect(propertyNames(page)).toEqual(["count", "next", "previous", "results"]);
      expect(page.properties.results.type).toBe("array");
      expect(propertyNames(page.properties.results.items)).toEqual([...RECORD_FIELDS].sort());
    }
  });

  test("detail describes the full record with raw_data", () => {
    expect(propertyNames(schemaOf("/api/outcomes/{id}/", "200"))).toEqual([...RECORD_FIELDS, "raw_data"].sort());
  });

  test("stats describes every figure", () => {
    expect(propertyNames(schemaOf("/api/outcomes/stats/", "200"))).toEqual([...STATS_FIELDS].sort());
  });

  test("daily_stats describes an array of days", () => {
    const days = schemaOf("/api/outcomes/daily_stats/", "200");
    expect(days.type).toBe("array");
    expect(propertyNames(days.items)).toEqual(["avg_win_price", "date", "revenue", "revenue_by_currency", "total", "wins"]);
  });

  test("breakdown describes its groups and total, each with the per-currency revenue", () => {
    const breakdown = schemaOf("/api/outcomes/breakdown/", "200");
    expect(propertyNames(breakdown)).toEqual(["by", "groups", "limit", "order", "previous_period", "results", "total", "tz"]);
    expect(breakdown.required).not.toContain("previous_period");
    const metrics = [
      "avg_bid_price",
      "avg_win_price",
      "enriched_count",
      "losses",
      "outcomes",
      "profit_margin",
      "revenue",
      "revenue_by_currency",
      "win_rate",
      "wins",
    ];
    // previous and change: with compare=previous_period only.
    expect(propertyNames(breakdown.properties.results.items)).toEqual(["key", "previous", "change", ...metrics].sort());
    expect(propertyNames(breakdown.properties.total)).toEqual(["previous", "change", ...metrics].sort());
    expect(schemaOf("/api/outcomes/breakdown/", "400").title).toBe("ErrorBody");
  });

  test("every outcomes route describes the 400 error body, and those that can 404 the 404 body", () => {
    const withNotFound = ["/api/outcomes/", "/api/outcomes/winners/", "/api/outcomes/{id}/"];
    for (const path of ["/api/outcomes/", "/api/outcomes/winners/", "/api/outcomes/stats/", "/api/outcomes/daily_stats/", "/api/outcomes/{id}/"]) {
      const statuses = withNotFound.includes(path) ? ["400", "404"] : ["400"];
      for (const status of statuses) {
        const error = schemaOf(path, status);
        expect(error.title).toBe("ErrorBody");
        expect(error.required).toEqual(["detail"]);
        expect(propertyNames(error)).toEqual(["detail", "errors"]);
        expect(error.properties.errors.type).toBe("object");
      }
    }
  });

  test("export describes its two formats as an attachment, and its 400, 406 and 503 error bodies", () => {
    const responses = doc.paths["/api/outcomes/export/"].get.responses;
    expect(Object.keys(responses["200"].content)).toEqual(["text/csv", "application/x-ndjson"]);
    expect(Object.keys(responses["200"].headers)).toEqual(["content-disposition"]);
    for (const status of ["400", "406", "503"]) expect(schemaOf("/api/outcomes/export/", status).title).toBe("ErrorBody");
  });

  test("dead letters describe each letter's replays: how many and the last one's result and reason", () => {
    const letter = schemaOf("/api/dead_letters/", "200").properties.results.items;
    expect(letter.properties.replay_count.type).toBe("integer");
    const lastReplay = letter.properties.last_replay.anyOf.find((s: { title?: string }) => s.title === "DeadLetterReplay");
    expect(propertyNames(lastReplay)).toEqual(["reason", "replayed_at", "result"]);
    expect(lastReplay.properties.result.anyOf.map((s: { const: string }) => s.const)).toEqual(["stored", "duplicate", "failed"]);
  });

  test("the router root and the probes describe their bodies", () => {
    expect(schemaOf("/api/", "200").title).toBe("ApiRoot");
    expect(propertyNames(schemaOf("/readyz", "200"))).toEqual(["reason", "status"]);
    expect(propertyNames(schemaOf("/readyz", "503"))).toEqual(["reason", "status"]);
    expect(propertyNames(schemaOf("/healthz", "200"))).toEqual(["reason", "status"]);
  });
});

describe("/swagger/json and bearer tokens", () => {
  const TOKEN = "swagger-token-0123456789";

  test("with API_TOKENS declares a bearer scheme required everywhere but the probes, so Swagger UI shows Authorize", async () => {
    const guarded = testApp(testConfig(db.url, { API_TOKENS: TOKEN }), db.sql);
    const { status, body, text } = await guarded.get("/swagger/json");
    expect(status).toBe(200);
    expect(body.components.securitySchemes).toEqual({
      bearerAuth: { type: "http", scheme: "bearer", description: "One of API_TOKENS, sent as `Authorization: Bearer <token>`." },
    });
    expect(body.security).toEqual([{ bearerAuth: [] }]);
    expect(body.paths["/healthz"].get.security).toEqual([]);
    expect(body.paths["/readyz"].get.security).toEqual([]);
    expect(body.paths["/api/outcomes/"].get.security).toBeUndefined();
    expect(text).not.toContain(TOKEN);
  });

  test("without API_TOKENS says nothing of authentication: the API is open", () => {
    expect(doc.components.securitySchemes).toBeUndefined();
    expect(doc.security).toBeUndefined();
  });
});
