// Dead letters: what ingest set aside, newest first, with the reason, where it came from and the
// payload exactly as received (text when it was UTF-8, else base64 of the bytes).
import { apiGet, type DeadLetter, type Page } from "./api.ts";
import { dataTable, h, replaceChildren, th } from "./dom.ts";
import { formatCount } from "./format.ts";
import type { View, ViewContext } from "./router.ts";

const PAGE_SIZE = "50";

function bytesCell(text: string | null, encoding: DeadLetter["payload_encoding"], what: string): HTMLElement {
  if (text === null) return h("span", { class: "muted" }, `(no ${what})`);
  return h(
    "div",
    {},
    h("pre", { class: "payload", tabindex: "0", "aria-label": `${what} as received` }, h("code", {}, text)),
    encoding === "base64" ? h("span", { class: "hint" }, "base64 of bytes that are not UTF-8") : null,
  );
}

const REPLAY_LABELS = { stored: "Stored", duplicate: "Already stored", failed: "Still failing" } as const;

/** How the last replay-dead-letters run went for this letter (its reason column shows the newest reason). */
function replayCell(letter: DeadLetter): HTMLElement {
  const last = letter.last_replay;
  if (last === null) return h("span", { class: "muted" }, "Never replayed");
  return h(
    "div",
    { "data-replay": last.result },
    h("span", { class: last.result === "failed" ? "badge lost" : "badge won" }, REPLAY_LABELS[last.result]),
    " ",
    h("time", { datetime: last.replayed_at }, last.replayed_at),
    letter.replay_count > 1 ? h("span", { class: "hint" }, ` (${letter.replay_count} replays)`) : null,
  );
}

function pageLink(page: number | null, label: string, rel: string): HTMLElement {
  if (page === null) return h("span", { class: "disabled", "aria-disabled": "true" }, label);
  return h("a", { href: page === 1 ? "/console/dead-letters" : `/console/dead-letters?page=${page}`, rel, "data-page": rel }, label);
}

export function deadLettersView(): View {
  return {
    async render(context: ViewContext) {
      const page = Math.max(1, Number(context.params.get("page") ?? "1") || 1);
      const answer = await apiGet<Page<DeadLetter>>("/api/dead_letters/", { page: String(page), page_size: PAGE_SIZE });
      if (!context.active()) return;
      const rows = answer.results.map((letter) =>
        h(
          "tr",
          { "data-id": letter.id },
          h("th", { scope: "row" }, h("time", { datetime: letter.received_at }, letter.received_at)),
          h("td", {}, letter.reason),
          h("td", {}, `${letter.topic} / ${letter.partition} / ${letter.offset}`),
          h("td", {}, bytesCell(letter.key, letter.key_encoding, "key")),
          h("td", { class: "payload-cell" }, bytesCell(letter.payload, letter.payload_encoding, "payload")),
          h("td", {}, replayCell(letter)),
        ),
      );
      replaceChildren(
        context.main,
        h("h1", { tabindex: "-1" }, "Dead letters"),
        h(
          "p",
          {},
          "Messages the consumer could not store as outcomes, kept exactly as received with the reason and where they came from. After a fix, ",
          h("code", {}, "bun run start replay-dead-letters"),
          " passes them through the mapping again; each replay is shown here, and the letter is kept.",
        ),
        h(
          "div",
          { class: "table-scroll" },
          dataTable(
            { class: "data", id: "dead-letters-table" },
            `${formatCount(answer.count)} dead letters, newest first${page > 1 ? `; page ${page}` : ""}.`,
            [th("Received at"), th("Reason"), th("Topic / partition / offset"), th("Key"), th("Payload"), th("Last replay")],
            h("tbody", {}, ...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 6 }, "No dead letters."))])),
          ),
        ),
        h(
          "nav",
          { class: "pager", "aria-label": "Pages of dead letters" },
          pageLink(page > 1 ? 1 : null, "First page", "first"),
          pageLink(answer.previous ? page - 1 : null, "Previous page", "prev"),
          pageLink(answer.next ? page + 1 : null, "Next page", "next"),
        ),
      );
    },
  };
}
