// Client-side routing over real paths (/console/outcomes?win_status=true&cursor=…): the address
// bar always holds the view and its filters, so a view can be bookmarked, shared and reloaded.
import { ApiFailure, AuthRequired } from "./api.ts";
import { alertBox, h, replaceChildren } from "./dom.ts";
import { renderTokenForm } from "./token.ts";

export type Route =
  | { name: "overview" }
  | { name: "outcomes" }
  | { name: "outcome"; id: string }
  | { name: "breakdown" }
  | { name: "dead-letters" }
  | { name: "not-found" };

export function routeOf(pathname: string): Route {
  const path = pathname.replace(/\/+$/, "");
  if (path === "/console") return { name: "overview" };
  if (path === "/console/outcomes") return { name: "outcomes" };
  if (path === "/console/breakdown") return { name: "breakdown" };
  if (path === "/console/dead-letters") return { name: "dead-letters" };
  const outcome = /^\/console\/outcomes\/([1-9]\d{0,17})$/.exec(path);
  if (outcome) return { name: "outcome", id: outcome[1]! };
  return { name: "not-found" };
}

export interface ViewContext {
  main: HTMLElement;
  route: Route;
  params: URLSearchParams;
  /** False once the user has moved on: late answers must not touch the page. */
  active(): boolean;
  navigate(url: string, options?: NavigateOptions): void;
}

/** A view renders into main; dispose stops its timers. */
export interface View {
  render(context: ViewContext): Promise<void>;
  dispose?(): void;
}

export interface NavigateOptions {
  /** Replace the history entry (a control changed) instead of adding one (a link was followed). */
  replace?: boolean;
  /** CSS selector of the element to focus after rendering; default the page's h1. */
  focus?: string;
}

type ViewFactory = (route: Route) => View;

export function startRouter(viewFor: ViewFactory): void {
  let current: View | null = null;
  let generation = 0;

  const render = async (options: NavigateOptions | null) => {
    current?.dispose?.();
    const mine = ++generation;
    const main = document.getElementById("main")!;
    const route = routeOf(location.pathname);
    markCurrentNav(route);
    const view = viewFor(route);
    current = view;
    const context: ViewContext = {
      main,
      route,
      params: new URLSearchParams(location.search),
      active: () => mine === generation,
      navigate,
    };
    try {
      await view.render(context);
    } catch (error) {
      if (mine !== generation) return;
      showError(main, error, () => void render(null));
      return;
    }
    if (options && mine === generation) moveFocus(main, options.focus);
  };

  function navigate(url: string, options: NavigateOptions = {}): void {
    if (options.replace) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
    void render(options);
  }

  // Follow console links in place; leave modified clicks (new tab, download) to the browser.
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = (event.target as Element | null)?.closest?.("a");
    if (!link || link.target || link.hasAttribute("download")) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || !/^\/console(\/|$)/.test(url.pathname)) return;
    if (url.pathname === location.pathname && url.search === location.search && url.hash) return; // in-page anchor
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
  window.addEventListener("popstate", () => void render({}));
  void render(null);
}

function markCurrentNav(route: Route): void {
  const section = route.name === "outcome" ? "outcomes" : route.name;
  for (const link of document.querySelectorAll<HTMLAnchorElement>("[data-nav]")) {
    if (link.dataset.nav === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function moveFocus(main: HTMLElement, selector: string | undefined): void {
  const target = (selector ? main.querySelector<HTMLElement>(selector) : null) ?? main.querySelector<HTMLElement>("h1") ?? main;
  if (!target.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) target.setAttribute("tabindex", "-1");
  target.focus();
}

export function showError(main: HTMLElement, error: unknown, retry: () => void): void {
  if (error instanceof AuthRequired) {
    renderTokenForm(main, error.refused, retry);
    return;
  }
  const message = error instanceof ApiFailure ? error.detail : "The API could not be reached.";
  const lines = error instanceof ApiFailure ? error.lines() : [String((error as Error)?.message ?? error)];
  const again = h("button", { type: "button" }, "Try again");
  again.addEventListener("click", retry);
  replaceChildren(main, h("h1", { tabindex: "-1" }, "Something went wrong"), alertBox(message, lines), again);
}
