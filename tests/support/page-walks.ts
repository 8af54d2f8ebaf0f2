// Walking the outcomes list to its end, by page numbers and by cursors, against a model of the
// rows in the API's order: the window tests (tests/outcomes/window.test.ts, prefix-window.test.ts)
// prove every page holds exactly the rows OFFSET over the whole table would give.
import { expect } from "bun:test";
import type { testApp } from "./http";

type Api = ReturnType<typeof testApp>;

/** The ids of the rows `keep` selects, ordered by auction time (text of fixed width) then id, as the API orders. */
export function inApiOrder<Row extends { id: number; ts: string }>(rows: readonly Row[], keep: (row: Row) => boolean, desc: boolean): number[] {
  const sorted = rows.filter(keep).sort((a, b) => (a.ts === b.ts ? a.id - b.id : a.ts < b.ts ? -1 : 1));
  return (desc ? sorted.reverse() : sorted).map((row) => row.id);
}

const ids = (body: { results: { id: number }[] }) => body.results.map((r) => r.id);

/** Pages 1, 2, … of `path` (which names its page size) until a 404 or the last page; each answers 200 with `count`. */
export async function walkPageNumbers(api: Api, path: string, count: number): Promise<number[]> {
  const got: number[] = [];
  for (let page = 1; ; page++) {
    const { status, body } = await api.get(`${path}&page=${page}`);
    if (status === 404) break;
    expect(status).toBe(200);
    expect(body.count).toBe(count);
    got.push(...ids(body));
    if (!body.next) break;
  }
  return got;
}

/** Forward from `path` (a `cursor=` list) by next links to the end, then back by previous links: the pages each way. */
export async function walkCursors(api: Api, path: string): Promise<{ forward: number[][]; back: number[][] }> {
  const forward: number[][] = [];
  let url: string | null = path;
  let previous: string | null = null;
  while (url) {
    const { body } = await api.get(url.replace("http://localhost", ""));
    forward.push(ids(body));
    previous = body.previous;
    url = body.next;
  }
  const back: number[][] = [];
  while (previous) {
    const { body } = await api.get(previous.replace("http://localhost", ""));
    back.push(ids(body));
    previous = body.previous;
  }
  return { forward, back };
}
