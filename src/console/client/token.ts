// The API token, when the server has API_TOKENS set: asked for in a form, kept in this tab's
// sessionStorage only (gone when the tab closes), sent as `Authorization: Bearer`.
import { alertBox, field, h, replaceChildren } from "./dom.ts";

const KEY = "helios-console-token";

export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(token: string): void {
  sessionStorage.setItem(KEY, token);
  renderTokenStatus();
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
  renderTokenStatus();
}

/** The header's "Forget token" button, shown while a token is kept. */
export function renderTokenStatus(): void {
  const slot = document.getElementById("token-status");
  if (!slot) return;
  if (getToken() === null) {
    replaceChildren(slot);
    return;
  }
  const button = h("button", { type: "button", class: "link-button" }, "Forget token");
  button.addEventListener("click", () => {
    clearToken();
    location.reload();
  });
  replaceChildren(slot, button);
}

/** Replaces the view with the token form; `refused` says the kept token was not accepted. */
export function renderTokenForm(main: HTMLElement, refused: boolean, onSaved: () => void): void {
  const input = h("input", { id: "api-token", name: "token", type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const form = h(
    "form",
    { class: "token-form", "aria-labelledby": "token-title" },
    field("API token", input, "Kept in this browser tab only (sessionStorage), sent as a bearer token to /api/."),
    h("button", { type: "submit" }, "Use token"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    setToken(token);
    onSaved();
  });
  replaceChildren(
    main,
    h("h1", { id: "token-title", tabindex: "-1" }, "API token required"),
    h("p", {}, "This server protects its API with bearer tokens (API_TOKENS). Enter one to use the console."),
    refused ? alertBox("The token was refused by the API. Check it and try again.") : null,
    form,
  );
  input.focus();
}
