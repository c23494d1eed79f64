/**
 * Building DOM nodes. Every text shown comes from the store (experiment names, keys, values), so
 * it only ever reaches the page as text nodes or attribute values — never as HTML — and no
 * attribute can carry an event handler.
 */

export type Child = Node | string | number | null | undefined | false | readonly Child[];

export interface Props {
  className?: string;
  /** Attributes, set with setAttribute (values are text, never markup). */
  attrs?: Record<string, string | number | boolean | undefined>;
  /** Event listeners, by event name. */
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
  title?: string;
  /** Style properties, set through the CSSOM (works under a CSP that refuses style attributes). */
  style?: Record<string, string>;
}

/**
 * An element with props and children; strings become text nodes, and a list of children stands for
 * its items: pass `rows.map(…)` as one argument, never spread it (`...rows`: every row an argument
 * of the call, which overflows the stack on a table of 100,000 columns).
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    if (props.className) el.className = props.className;
    if (props.title !== undefined) el.title = props.title;
    for (const [name, value] of Object.entries(props.style ?? {})) el.style.setProperty(name, value);
    for (const [name, value] of Object.entries(props.attrs ?? {})) setAttr(el, name, value);
    for (const [name, listener] of Object.entries(props.on ?? {}))
      el.addEventListener(name, listener as EventListener);
  }
  appendAll(el, children);
  return el;
}

/** Sets an attribute; on* names are refused so that no attribute ever becomes code (styles go by `style`). */
export function setAttr(el: Element, name: string, value: string | number | boolean | undefined): void {
  if (/^(on|style$)/i.test(name)) throw new Error(`refusing to set the attribute ${name}`);
  if (value === undefined || value === false) el.removeAttribute(name);
  else el.setAttribute(name, value === true ? '' : String(value));
}

/** Appends children; strings and numbers as text nodes, lists item by item. */
export function append(el: Node, ...children: Child[]): void {
  appendAll(el, children);
}

function appendAll(el: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) appendAll(el, child as readonly Child[]);
    else el.appendChild(typeof child === 'object' ? (child as Node) : document.createTextNode(String(child)));
  }
}

/** Replaces all children of `el`. */
export function replace(el: Node, ...children: Child[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  appendAll(el, children);
}

/** A link inside the app (`#/…`) or to the API. */
export function link(href: string, text: Child, props: Props = {}): HTMLAnchorElement {
  return h('a', { ...props, attrs: { ...props.attrs, href } }, text);
}

/** A message line shown in place of content (errors, "loading…", "nothing here"). */
export function note(text: string, kind: 'info' | 'error' = 'info'): HTMLElement {
  return h('p', { className: `note ${kind}`, attrs: kind === 'error' ? { role: 'alert' } : {} }, text);
}
