// Outcome detail: every field of the record and raw_data, the message as received, as JSON.
import { ApiFailure, apiGet, type OutcomeDetail } from "./api.ts";
import { h, replaceChildren } from "./dom.ts";
import { formatMoney, yesNo } from "./format.ts";
import { LAST_LIST_KEY } from "./outcomes.ts";
import type { View, ViewContext } from "./router.ts";

function fields(outcome: OutcomeDetail): [string, string][] {
  return [
    ["id", String(outcome.id)],
    ["bid_id", outcome.bid_id],
    ["user_id", outcome.user_id],
    ["site_domain", outcome.site_domain ?? "(none)"],
    ["win_status", outcome.win_status ? "true (won)" : "false (lost)"],
    ["win_price", formatMoney(outcome.win_price)],
    ["bid_price", formatMoney(outcome.bid_price)],
    ["currency", outcome.currency],
    ["enriched", yesNo(outcome.enriched)],
    ["timestamp", outcome.timestamp],
    ["auction_timestamp", outcome.auction_timestamp ?? "(none)"],
    ["user_interests", outcome.user_interests.length ? outcome.user_interests.map(String).join(", ") : "(none)"],
    ["is_winner", String(outcome.is_winner)],
    ["profit_margin", String(outcome.profit_margin)],
    ["created_at", outcome.created_at],
    ["updated_at", outcome.updated_at],
  ];
}

export function detailView(id: string): View {
  return {
    async render(context: ViewContext) {
      const back = h("a", { href: sessionStorage.getItem(LAST_LIST_KEY) ?? "/console/outcomes", class: "back" }, "Back to outcomes");
      let outcome: OutcomeDetail;
      try {
        outcome = await apiGet<OutcomeDetail>(`/api/outcomes/${id}/`);
      } catch (error) {
        if (!(error instanceof ApiFailure) || error.status !== 404) throw error;
        if (!context.active()) return;
        replaceChildren(context.main, back, h("h1", { tabindex: "-1" }, "Outcome not found"), h("p", {}, `There is no outcome with id ${id}.`));
        return;
      }
      if (!context.active()) return;
      document.title = `Outcome ${outcome.bid_id} · Helios Analytics console`;
      replaceChildren(
        context.main,
        back,
        h("h1", { tabindex: "-1" }, `Outcome ${outcome.bid_id}`),
        h(
          "section",
          { "aria-labelledby": "fields-title" },
          h("h2", { id: "fields-title" }, "Fields"),
          h(
            "dl",
            { class: "fields", id: "outcome-fields" },
            ...fields(outcome).map(([name, value]) => h("div", {}, h("dt", {}, name), h("dd", { "data-field": name }, value))),
          ),
        ),
        h(
          "section",
          { "aria-labelledby": "raw-title" },
          h("h2", { id: "raw-title" }, "raw_data: the message as received"),
          h("pre", { class: "json", id: "raw-data", tabindex: "0", "aria-labelledby": "raw-title" }, h("code", {}, JSON.stringify(outcome.raw_data, null, 2))),
        ),
      );
    },
  };
}
