// Element builders. Text always goes in as text nodes (never innerHTML), and no style or on*
// attribute is ever set, so nothing here needs 'unsafe-inline' under the console's CSP.
export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "style" || name.startsWith("on")) throw new Error(`refusing to set ${name}: the CSP forbids inline code and styles`);
    el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, ...children);
  return el;
}

/** A column heading cell (scope col); `attrs` adds to it, e.g. class num for a numeric column. */
export const th = (label: Child, attrs: Attrs = {}): HTMLTableCellElement => h("th", { scope: "col", ...attrs }, label);

/**
 * A data table: its caption (text, or a caption element with attributes of its own), one row of
 * column headings, then the rest (the body, a footer).
 */
export function dataTable(attrs: Attrs, caption: string | HTMLTableCaptionElement, headings: Child[], ...rest: Child[]): HTMLTableElement {
  return h("table", attrs, typeof caption === "string" ? h("caption", {}, caption) : caption, h("thead", {}, h("tr", {}, ...headings)), ...rest);
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** A labelled form control: every control of the console has a visible <label>. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLElement {
  const hintId = hint ? `${control.id}-hint` : undefined;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hint ? h("span", { class: "hint", id: hintId }, hint) : null);
}

export function select(id: string, name: string, options: [value: string, label: string][], selected: string): HTMLSelectElement {
  const el = h("select", { id, name });
  for (const [value, label] of options) append(el, h("option", { value, selected: value === selected }, label));
  return el;
}

/** An error message screen readers announce. */
export function alertBox(title: string, lines: string[] = []): HTMLElement {
  return h(
    "div",
    { class: "alert", role: "alert" },
    h("p", { class: "alert-title" }, title),
    lines.length ? h("ul", {}, ...lines.map((line) => h("li", {}, line))) : null,
  );
}
