// A deterministic stream of realistic auction outcomes, for benchmarks, the demo feed and tests.
// Every message is a pure function of (options, index): the same seed gives the same bytes on
// any machine, any chunking and in any order, so Kafka messages and COPY rows made separately
// from one seed describe exactly the same outcomes.
import { numberToDecimalText } from "../values/decimals";

export interface AdCreative {
  creative_id: string;
  title: string;
  image_url: string;
  landing_url: string;
  bid_tier: "premium" | "standard" | "basic";
  /** A string, as the bidder sends it. */
  targeted: "true" | "false";
}

/** One message of `auction_outcomes`, field for field as the upstream sends it. */
export interface OutcomeMessage {
  bid_request_id: string;
  user_id: string;
  site_domain?: string;
  bid_price: number;
  currency: "USD";
  /** Python `isoformat()`: microseconds (omitted when zero, as Python does) and `+00:00`. */
  timestamp: string;
  enriched: boolean;
  user_interests: string[];
  winning_interest: string | null;
  interest_score: number;
  ad_creative: AdCreative;
  win_status: boolean;
  win_price: number;
  /** JavaScript `toISOString()`: milliseconds and `Z`, a few ms after `timestamp`. */
  auction_timestamp: string;
}

export type InvalidKind =
  | "malformed-json"
  | "not-an-object"
  | "missing-bid-request-id"
  | "unparsable-price"
  | "impossible-timestamp"
  | "non-boolean-win-status"
  | "not-utf8";

export const INVALID_KINDS: readonly InvalidKind[] = [
  "malformed-json",
  "not-an-object",
  "missing-bid-request-id",
  "unparsable-price",
  "impossible-timestamp",
  "non-boolean-win-status",
  "not-utf8",
];

export type GeneratedMessage =
  | {
      index: number;
      kind: "outcome";
      key: string;
      outcome: OutcomeMessage;
      /** Set when this message redelivers the outcome first sent at that index. */
      duplicateOf: number | null;
    }
  | {
      index: number;
      kind: "invalid";
      key: string | null;
      invalid: InvalidKind;
      /** The bytes on the wire: text for most kinds, raw bytes for `not-utf8`. */
      payload: string | Uint8Array;
    };

export interface GeneratorOptions {
  seed: number;
  /** First instant of the window; default 2025-07-01T00:00:00Z (fixed, so output never depends on the clock). */
  start?: string | number | Date;
  /** Length of the window in days; default 90. */
  days?: number;
  /**
   * How many messages span the window: message i lands in slot i mod spreadOver, so timestamps
   * rise with the index (as a live stream's do) and always stay inside the window. Default 1,000,000.
   */
  spreadOver?: number;
  /** Live mode (demo feed): `timestamp` is this clock's epoch ms (plus random microseconds) instead of the window. */
  clock?: () => number;
  users?: number;
  domains?: number;
  /** Zipf exponents; 1 is the classic Zipf law. */
  userSkew?: number;
  domainSkew?: number;
  /** Share of messages without site_domain (upstream does not always forward it). Default 0. */
  missingSiteDomainRate?: number;
  /** Share of messages that redeliver an earlier outcome unchanged (at-least-once delivery). Default 0. */
  duplicateRate?: number;
  /** Share of messages that cannot become an outcome, of the kinds in INVALID_KINDS. Default 0. */
  invalidRate?: number;
}

export interface ResolvedGeneratorOptions {
  seed: number;
  startMs: number;
  days: number;
  spreadOver: number;
  clock: (() => number) | null;
  users: number;
  domains: number;
  userSkew: number;
  domainSkew: number;
  missingSiteDomainRate: number;
  duplicateRate: number;
  invalidRate: number;
}

export interface OutcomeGenerator {
  readonly options: ResolvedGeneratorOptions;
  /** The outcome first sent at this index, whatever the fault options make of the message there. */
  outcomeAt(index: number): OutcomeMessage;
  /** The message at this index: an outcome, a redelivered earlier outcome, or an invalid payload. */
  messageAt(index: number): GeneratedMessage;
  /** Messages from..from+count-1 (endless without count). */
  messages(from?: number, count?: number): Generator<GeneratedMessage>;
  [Symbol.iterator](): Generator<GeneratedMessage>;
}

/** Bump whenever the output for a given seed changes: benchmarks reuse data sets made by the same version only. */
export const GENERATOR_VERSION = 1;

export const DEFAULT_START = "2025-07-01T00:00:00Z";

export const INTERESTS = [
  "technology",
  "sports",
  "travel",
  "fashion",
  "food",
  "finance",
  "gaming",
  "music",
  "health",
  "automotive",
  "entertainment",
  "education",
] as const;

/** Bid price tiers and their weights (per cent) in the bidder's output. */
export const BID_TIERS: readonly { price: number; weight: number }[] = [
  { price: 0.1, weight: 10 },
  { price: 0.25, weight: 15 },
  { price: 0.35, weight: 15 },
  { price: 0.5, weight: 20 },
  { price: 0.75, weight: 15 },
  { price: 1.0, weight: 12 },
  { price: 1.2, weight: 8 },
  { price: 2.5, weight: 5 },
];

/** Bids at or below the floor never win; above it the auction is won this often. */
export const FLOOR_PRICE = 0.3;
export const WIN_RATE_ABOVE_FLOOR = 0.7;
export const ENRICHED_RATE = 0.85;
export const MAX_INTERESTS = 3;

// ---------------------------------------------------------------------------------------------
// Randomness: a 32-bit hash gives each (seed, index, stream) its own PRNG state, and mulberry32
// draws from it. Both are a handful of integer operations: no Math.random, no allocation.

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A bijection of index for a fixed key (index < 2^32), so states of one stream never repeat. */
function stateFor(key: number, index: number): number {
  return fmix32((key + Math.imul(index, 0x9e3779b9)) >>> 0);
}

class Mulberry32 {
  private state = 0;
  reseed(state: number): this {
    this.state = state;
    return this;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** Uniform draws in [0, 1) from one seed: the same sequence for the same seed (tests print theirs to replay a run). */
export function seededRandom(seed: number): () => number {
  const prng = new Mulberry32().reseed(seed);
  return () => prng.next();
}

// ---------------------------------------------------------------------------------------------
// Zipf: P(rank k) ∝ 1/k^s. The CDF is built once per (n, s) and a draw is a binary search.

const zipfTables = new Map<string, Float64Array>();

function zipfCdf(n: number, s: number): Float64Array {
  const id = `${n}:${s}`;
  let cdf = zipfTables.get(id);
  if (!cdf) {
    cdf = new Float64Array(n);
    let total = 0;
    for (let k = 1; k <= n; k++) cdf[k - 1] = total += 1 / k ** s;
    for (let i = 0; i < n; i++) cdf[i]! /= total;
    cdf[n - 1] = 1;
    zipfTables.set(id, cdf);
  }
  return cdf;
}

/** Rank 1..n for a uniform u in [0, 1). */
function zipfRank(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid]! > u) hi = mid;
    else lo = mid + 1;
  }
  return lo + 1;
}

// ---------------------------------------------------------------------------------------------
// Names. Rank → name is fixed (independent of the seed) so a benchmark can name the heaviest
// user or site; a multiplicative permutation keeps the heavy ones from being user-1, user-2, ….

function scatter(rank: number, n: number): number {
  const multiplier = 7919; // prime: a permutation of 0..n-1 whenever it does not divide n
  return n % multiplier === 0 ? rank - 1 : ((rank - 1) * multiplier) % n;
}

/** The user id at this Zipf rank (1 = the heaviest user). */
export function userIdOf(rank: number, users = 100_000): string {
  return `user-${scatter(rank, users) + 1}`;
}

const DOMAIN_HEADS = [
  "daily",
  "tech",
  "sport",
  "travel",
  "food",
  "money",
  "game",
  "music",
  "health",
  "auto",
  "home",
  "style",
  "science",
  "movie",
  "book",
  "pet",
  "garden",
  "crypto",
  "market",
  "city",
  "local",
  "global",
  "green",
  "smart",
  "quick",
  "true",
  "open",
  "bright",
  "urban",
  "prime",
  "pixel",
  "cloud",
  "metro",
  "nova",
  "alpha",
  "star",
  "blue",
  "red",
  "wild",
  "fresh",
];
const DOMAIN_TAILS = [
  "news",
  "hub",
  "zone",
  "world",
  "times",
  "review",
  "blog",
  "wire",
  "post",
  "today",
  "insider",
  "report",
  "digest",
  "guide",
  "central",
  "planet",
  "network",
  "journal",
  "gazette",
  "tribune",
  "magazine",
  "spot",
  "lab",
  "now",
  "daily",
];
const DOMAIN_TLDS = ["com", "net", "org", "io"];
const DOMAIN_COMBINATIONS = DOMAIN_HEADS.length * DOMAIN_TAILS.length * DOMAIN_TLDS.length;

function domainName(n: number): string {
  const head = DOMAIN_HEADS[n % DOMAIN_HEADS.length]!;
  const tail = DOMAIN_TAILS[Math.floor(n / DOMAIN_HEADS.length) % DOMAIN_TAILS.length]!;
  const tld = DOMAIN_TLDS[Math.floor(n / (DOMAIN_HEADS.length * DOMAIN_TAILS.length)) % DOMAIN_TLDS.length]!;
  const extra = Math.floor(n / DOMAIN_COMBINATIONS);
  return `${head}${tail}${extra > 0 ? extra : ""}.${tld}`;
}

/** The site domain at this Zipf rank (1 = the busiest site). */
export function siteDomainOf(rank: number, domains = 2_000): string {
  return domainName(scatter(rank, domains));
}

// ---------------------------------------------------------------------------------------------
// Creatives: a fixed pool, frozen and shared between messages (they are only ever serialized).

const CREATIVES_PER_THEME = 5;
const THEMES = ["general", ...INTERESTS] as const;
type Tier = AdCreative["bid_tier"];

function tierOf(bidPrice: number): Tier {
  return bidPrice >= 1 ? "premium" : bidPrice >= 0.5 ? "standard" : "basic";
}

const CREATIVES: Map<string, AdCreative> = (() => {
  const pool = new Map<string, AdCreative>();
  for (const theme of THEMES) {
    for (let k = 1; k <= CREATIVES_PER_THEME; k++) {
      const id = `c-${theme}-${k}`;
      const title = `${theme[0]!.toUpperCase()}${theme.slice(1)} offer ${k}`;
      for (const tier of ["premium", "standard", "basic"] as const) {
        for (const targeted of ["true", "false"] as const) {
          pool.set(
            `${id}|${tier}|${targeted}`,
            Object.freeze({
              creative_id: id,
              title,
              image_url: `https://cdn.helios-ads.example/creatives/${id}.png`,
              landing_url: `https://ads.helios-ads.example/landing/${id}`,
              bid_tier: tier,
              targeted,
            }),
          );
        }
      }
    }
  }
  return pool;
})();

// ---------------------------------------------------------------------------------------------
// Time.

const DAY_MS = 86_400_000;

/** Python's `datetime.isoformat()` of a UTC instant in epoch microseconds. */
export function pythonIsoformat(epochMicros: number): string {
  const head = new Date(Math.floor(epochMicros / 1000)).toISOString().slice(0, 19);
  const micros = epochMicros % 1_000_000;
  return micros === 0 ? `${head}+00:00` : `${head}.${String(micros).padStart(6, "0")}+00:00`;
}

function toEpochMs(start: string | number | Date): number {
  const ms = start instanceof Date ? start.getTime() : typeof start === "number" ? start : Date.parse(start);
  if (!Number.isFinite(ms)) throw new RangeError(`start ${String(start)} is not a valid instant`);
  return ms;
}

// ---------------------------------------------------------------------------------------------

function rate(name: string, value: number | undefined, fallback: number): number {
  const r = value ?? fallback;
  if (!(r >= 0 && r <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${r}`);
  return r;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, got ${n}`);
  return n;
}

export function resolveGeneratorOptions(options: GeneratorOptions): ResolvedGeneratorOptions {
  if (!Number.isInteger(options.seed)) throw new RangeError(`seed must be an integer, got ${options.seed}`);
  const days = options.days ?? 90;
  if (!(days > 0)) throw new RangeError(`days must be positive, got ${days}`);
  return {
    seed: options.seed,
    startMs: toEpochMs(options.start ?? DEFAULT_START),
    days,
    spreadOver: positiveInteger("spreadOver", options.spreadOver, 1_000_000),
    clock: options.clock ?? null,
    users: positiveInteger("users", options.users, 100_000),
    domains: positiveInteger("domains", options.domains, 2_000),
    userSkew: options.userSkew ?? 1,
    domainSkew: options.domainSkew ?? 1,
    missingSiteDomainRate: rate("missingSiteDomainRate", options.missingSiteDomainRate, 0),
    duplicateRate: rate("duplicateRate", options.duplicateRate, 0),
    invalidRate: rate("invalidRate", options.invalidRate, 0),
  };
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");

/** How far back a redelivery reaches: a consumer restart replays a recent stretch, not the whole topic. */
const REDELIVERY_WINDOW = 10_000;

export function createOutcomeGenerator(input: GeneratorOptions): OutcomeGenerator {
  const options = resolveGeneratorOptions(input);
  const outcomeKey = fmix32(options.seed ^ 0x5eed0001);
  const idKey = fmix32(options.seed ^ 0x5eed0002);
  const faultKey = fmix32(options.seed ^ 0x5eed0003);
  const seedTag = hex8(fmix32(options.seed ^ 0x5eed0004));
  const userCdf = zipfCdf(options.users, options.userSkew);
  const domainCdf = zipfCdf(options.domains, options.domainSkew);
  const userIds = Array.from({ length: options.users }, (_, i) => userIdOf(i + 1, options.users));
  const domainNames = Array.from({ length: options.domains }, (_, i) => siteDomainOf(i + 1, options.domains));
  const tierCumulative = BID_TIERS.map((_, i) => BID_TIERS.slice(0, i + 1).reduce((sum, t) => sum + t.weight, 0));
  const tierTotal = tierCumulative[tierCumulative.length - 1]!;
  const slotMicros = (options.days * DAY_MS * 1000) / options.spreadOver;
  const rng = new Mulberry32();
  const faults = new Mulberry32();

  /**
   * UUID-shaped and unique per (seed, index): the first group is a bijection of the index, the
   * last carries the seed, so two seeds never share an id and ids arrive in random order (as
   * real bid request ids do, which matters for the unique index).
   */
  function bidRequestId(index: number, r: Mulberry32): string {
    const a = stateFor(idKey, index);
    const b = (r.next() * 4294967296) >>> 0;
    return `${hex8(a)}-${hex8(b).slice(0, 4)}-4${hex8(b).slice(5, 8)}-${(8 + (b & 3)).toString(16)}${hex8(a ^ b).slice(0, 3)}-${seedTag}${hex8(b ^ idKey).slice(0, 4)}`;
  }

  function timestampMicros(index: number, r: Mulberry32): number {
    if (options.clock) return Math.floor(options.clock()) * 1000 + r.below(1000);
    const slot = index % options.spreadOver;
    return options.startMs * 1000 + Math.floor((slot + r.next()) * slotMicros);
  }

  function outcomeAt(index: number): OutcomeMessage {
    if (!Number.isInteger(index) || index < 0 || index >= 4294967296) throw new RangeError(`index must be in 0..2^32-1, got ${index}`);
    const r = rng.reseed(stateFor(outcomeKey, index));
    const id = bidRequestId(index, r);
    const userId = userIds[zipfRank(userCdf, r.next()) - 1]!;
    const siteDomain = domainNames[zipfRank(domainCdf, r.next()) - 1]!;
    const hasSite = !(r.next() < options.missingSiteDomainRate);

    const pick = r.next() * tierTotal;
    let tier = 0;
    while (tierCumulative[tier]! <= pick) tier++;
    const bidPrice = BID_TIERS[tier]!.price;
    const won = bidPrice > FLOOR_PRICE && r.next() < WIN_RATE_ABOVE_FLOOR;

    const enriched = r.next() < ENRICHED_RATE;
    const interests: string[] = [];
    if (enriched) {
      const wanted = r.below(MAX_INTERESTS + 1);
      while (interests.length < wanted) {
        const interest = INTERESTS[r.below(INTERESTS.length)]!;
        if (!interests.includes(interest)) interests.push(interest);
      }
    }
    const winningInterest = interests.length > 0 ? interests[r.below(interests.length)]! : null;
    const interestScore = winningInterest ? Math.round(50 + r.next() * 50) / 100 : 0;
    const theme = winningInterest ?? "general";
    const creative = CREATIVES.get(`c-${theme}-${1 + r.below(CREATIVES_PER_THEME)}|${tierOf(bidPrice)}|${winningInterest ? "true" : "false"}`)!;

    const micros = timestampMicros(index, r);
    const auctionMs = Math.floor(micros / 1000) + 1 + r.below(50);

    const message: OutcomeMessage = {
      bid_request_id: id,
      user_id: userId,
      ...(hasSite ? { site_domain: siteDomain } : {}),
      bid_price: bidPrice,
      currency: "USD",
      timestamp: pythonIsoformat(micros),
      enriched,
      user_interests: interests,
      winning_interest: winningInterest,
      interest_score: interestScore,
      ad_creative: creative,
      win_status: won,
      win_price: won ? bidPrice : 0,
      auction_timestamp: new Date(auctionMs).toISOString(),
    };
    return message;
  }

  function invalidMessage(index: number, kind: InvalidKind): GeneratedMessage {
    const outcome = outcomeAt(index);
    const key = outcome.bid_request_id;
    const json = outcomeJson(outcome);
    const payloads: Record<InvalidKind, () => string | Uint8Array> = {
      "malformed-json": () => json.slice(0, Math.floor(json.length / 2)),
      "not-an-object": () => JSON.stringify([outcome.bid_request_id, outcome.win_status]),
      "missing-bid-request-id": () => {
        const { bid_request_id: _dropped, ...rest } = outcome;
        return JSON.stringify(rest);
      },
      "unparsable-price": () => JSON.stringify({ ...outcome, win_price: "0.7O" }),
      "impossible-timestamp": () => JSON.stringify({ ...outcome, timestamp: "2025-02-30T25:61:00.000000+00:00" }),
      "non-boolean-win-status": () => JSON.stringify({ ...outcome, win_status: "maybe" }),
      // Latin-1 bytes of "café" inside otherwise plausible JSON: not valid UTF-8.
      "not-utf8": () => new Uint8Array([...new TextEncoder().encode(`{"bid_request_id":"${key}","user_id":"caf`), 0xe9, ...new TextEncoder().encode(`"}`)]),
    };
    return { index, kind: "invalid", key: kind === "missing-bid-request-id" ? null : key, invalid: kind, payload: payloads[kind]() };
  }

  function messageAt(index: number): GeneratedMessage {
    if (options.invalidRate > 0 || options.duplicateRate > 0) {
      // Fault decisions come from their own stream, so turning faults on or off never changes
      // the outcome generated at any index.
      const f = faults.reseed(stateFor(faultKey, index));
      if (f.next() < options.invalidRate) return invalidMessage(index, INVALID_KINDS[f.below(INVALID_KINDS.length)]!);
      if (index > 0 && f.next() < options.duplicateRate) {
        const original = index - 1 - f.below(Math.min(index, REDELIVERY_WINDOW));
        const outcome = outcomeAt(original);
        return { index, kind: "outcome", key: outcome.bid_request_id, outcome, duplicateOf: original };
      }
    }
    const outcome = outcomeAt(index);
    return { index, kind: "outcome", key: outcome.bid_request_id, outcome, duplicateOf: null };
  }

  function* messages(from = 0, count = Infinity): Generator<GeneratedMessage> {
    for (let i = from; i < from + count; i++) yield messageAt(i);
  }

  return { options, outcomeAt, messageAt, messages, [Symbol.iterator]: () => messages() };
}

// ---------------------------------------------------------------------------------------------
// JSON. Serializing is most of the cost of a message, and JSON.stringify is generic: this writes
// the known fields in their order with the frozen creatives' JSON cached, 2–3× faster, and gives
// exactly JSON.stringify's text for any OutcomeMessage (a unit test holds it to that).

// Quotes, backslashes, control characters and lone surrogates take JSON.stringify's path.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what it looks for.
const JSON_UNSAFE = /["\\\u0000-\u001f\ud800-\udfff]/;
const jsonString = (s: string) => (JSON_UNSAFE.test(s) ? JSON.stringify(s) : `"${s}"`);
const jsonNumber = (n: number) => (Number.isFinite(n) ? String(n) : "null");
const creativeJson = new WeakMap<AdCreative, string>();

function jsonCreative(creative: AdCreative): string {
  let text = creativeJson.get(creative);
  if (text === undefined) {
    text = JSON.stringify(creative);
    if (Object.isFrozen(creative)) creativeJson.set(creative, text);
  }
  return text;
}

function jsonInterests(interests: readonly string[]): string {
  let text = "[";
  for (let i = 0; i < interests.length; i++) text += (i > 0 ? "," : "") + jsonString(interests[i]!);
  return `${text}]`;
}

/** The message as JSON text, identical to JSON.stringify(message). */
export function outcomeJson(m: OutcomeMessage): string {
  const interests = jsonInterests(m.user_interests);
  return (
    `{"bid_request_id":${jsonString(m.bid_request_id)},"user_id":${jsonString(m.user_id)}` +
    (m.site_domain !== undefined ? `,"site_domain":${jsonString(m.site_domain)}` : "") +
    `,"bid_price":${jsonNumber(m.bid_price)},"currency":${jsonString(m.currency)},"timestamp":${jsonString(m.timestamp)}` +
    `,"enriched":${m.enriched},"user_interests":${interests}` +
    `,"winning_interest":${m.winning_interest === null ? "null" : jsonString(m.winning_interest)}` +
    `,"interest_score":${jsonNumber(m.interest_score)},"ad_creative":${jsonCreative(m.ad_creative)}` +
    `,"win_status":${m.win_status},"win_price":${jsonNumber(m.win_price)},"auction_timestamp":${jsonString(m.auction_timestamp)}}`
  );
}

/** The Kafka value of a generated message. */
export function messageValue(message: GeneratedMessage): string | Uint8Array {
  return message.kind === "outcome" ? outcomeJson(message.outcome) : message.payload;
}

// ---------------------------------------------------------------------------------------------
// COPY text format.

/** The auction_outcomes columns a COPY row fills, in order; the rest take their defaults. */
export const COPY_COLUMNS = [
  "bid_id",
  "user_id",
  "site_domain",
  "win_status",
  "win_price",
  "bid_price",
  "currency",
  "enriched",
  "timestamp",
  "auction_timestamp",
  "user_interests",
  "raw_data",
] as const;

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

/** One field in COPY text format: backslash, tab, newline and carriage return escaped; null is \N. */
export function copyField(value: string | null): string {
  if (value === null) return "\\N";
  return COPY_SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : value;
}

/**
 * The COPY line (with its newline) that stores this message as the consumer would: prices as
 * the exact decimal text of the JSON number, both timestamps as sent, the message as raw_data.
 */
export function toCopyRow(message: OutcomeMessage): string {
  return (
    copyField(message.bid_request_id) +
    "\t" +
    copyField(message.user_id) +
    "\t" +
    copyField(message.site_domain ?? null) +
    "\t" +
    (message.win_status ? "t" : "f") +
    "\t" +
    numberToDecimalText(message.win_price) +
    "\t" +
    numberToDecimalText(message.bid_price) +
    "\t" +
    copyField(message.currency) +
    "\t" +
    (message.enriched ? "t" : "f") +
    "\t" +
    copyField(message.timestamp) +
    "\t" +
    copyField(message.auction_timestamp) +
    "\t" +
    copyField(jsonInterests(message.user_interests)) +
    "\t" +
    copyField(outcomeJson(message)) +
    "\n"
  );
}
