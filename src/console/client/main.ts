// The console's entry point: picks the view for the path and keeps it in step with history.
import { breakdownView } from "./breakdown.ts";
import { deadLettersView } from "./dead-letters.ts";
import { detailView } from "./detail.ts";
import { h } from "./dom.ts";
import { outcomesView } from "./outcomes.ts";
import { overviewView } from "./overview.ts";
import { type Route, startRouter, type View } from "./router.ts";
import { renderTokenStatus } from "./token.ts";

function viewFor(route: Route): View {
  switch (route.name) {
    case "overview":
      return overviewView();
    case "outcomes":
      return outcomesView();
    case "outcome":
      return detailView(route.id);
    case "breakdown":
      return breakdownView();
    case "dead-letters":
      return deadLettersView();
    case "not-found":
      return {
        async render({ main }) {
          main.replaceChildren(h("h1", { tabindex: "-1" }, "Page not found"), h("p", {}, h("a", { href: "/console/" }, "Go to the overview")));
        },
      };
  }
}

const TITLES: Record<Route["name"], string> = {
  overview: "Overview",
  outcomes: "Outcomes",
  outcome: "Outcome",
  breakdown: "Breakdown",
  "dead-letters": "Dead letters",
  "not-found": "Not found",
};

renderTokenStatus();
startRouter((route) => {
  document.title = `${TITLES[route.name]} · Helios Analytics console`;
  return viewFor(route);
});

// The skip link focuses main itself: its "#main" must not become a history entry for the router.
document.querySelector(".skip-link")?.addEventListener("click", (event) => {
  event.preventDefault();
  document.getElementById("main")?.focus();
});
