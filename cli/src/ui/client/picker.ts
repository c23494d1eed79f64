/**
 * The metric picker of the chart pages (issue 24): which keys get a chart. A search box, then one
 * section per key prefix (`train/`, `val/`, `system/`, …) with a box for the whole section and one
 * per key. A section's keys are put in the page only when it is opened or searched (a run may have
 * thousands). The choice is a list of entries — exact keys, or `prefix/*` for a whole section, so
 * keys a live run adds to a chosen section are charted too — or null for every key; it goes into
 * the URL as `charts=` (formatCharts / parseCharts).
 */
import { prefixOf, sectionsOf } from './chartGrid';
import { h, replace } from './dom';

/** Keys shown at most per section at once (the search narrows them). */
const MAX_LISTED = 300;

/** `charts=` of the URL: entries separated by ',' (a ',' or '%' in a key escaped); null when absent. */
export function parseCharts(text: string | null): string[] | null {
  if (text === null) return null;
  if (text === '') return [];
  return text.split(',').map((e) => e.replace(/%(25|2C)/gi, (m) => (m === '%25' ? '%' : ',')));
}

export function formatCharts(entries: readonly string[]): string {
  return entries.map((e) => e.replace(/%/g, '%25').replace(/,/g, '%2C')).join(',');
}

/**
 * The keys of `keys` an entry list chooses, in the entries' order (a `prefix/*` stands for its
 * section's keys, in key order, where it is listed); every key in section order for null.
 */
export function chosenKeys(keys: readonly string[], entries: readonly string[] | null): string[] {
  const sections = sectionsOf(keys);
  if (entries === null) return [...sections.values()].flat();
  const present = new Set(keys);
  const out = new Set<string>();
  for (const e of entries) {
    if (e.endsWith('/*')) for (const k of sections.get(e.slice(0, -2)) ?? []) out.add(k);
    else if (present.has(e)) out.add(e);
  }
  return [...out];
}

/**
 * The shortest entry list for the keys `chosen`, keeping the order of `previous` (the keys it
 * still chooses where they were, each newly chosen one after its predecessor in section order);
 * whole sections in key order as `prefix/*`; null for every key in section order.
 */
export function entriesFor(
  keys: readonly string[],
  chosen: ReadonlySet<string>,
  previous: readonly string[] | null = null,
): string[] | null {
  const sections = sectionsOf(keys);
  const sorted = [...sections.values()].flat();
  const kept = previous === null ? [] : chosenKeys(keys, previous).filter((k) => chosen.has(k));
  const listed = new Set(kept);
  // a key newly chosen goes right after the last key before it in section order that is kept
  // (a section unticked and ticked again comes back where it was)
  const after = new Map<string | undefined, string[]>();
  let anchor: string | undefined;
  for (const k of sorted) {
    if (listed.has(k)) anchor = k;
    else if (chosen.has(k)) {
      const list = after.get(anchor);
      if (list) list.push(k);
      else after.set(anchor, [k]);
    }
  }
  const order = [...(after.get(undefined) ?? []), ...kept.flatMap((k) => [k, ...(after.get(k) ?? [])])];
  if (order.length === sorted.length && order.every((k, i) => k === sorted[i])) return null;
  const entries: string[] = [];
  for (let i = 0; i < order.length;) {
    const prefix = prefixOf(order[i]);
    const section = sections.get(prefix)!;
    if (prefix !== '' && section.length > 1 && section.every((k, j) => order[i + j] === k)) {
      entries.push(`${prefix}/*`);
      i += section.length;
    } else entries.push(order[i++]);
  }
  return entries;
}

export class MetricPicker {
  readonly el: HTMLDetailsElement;
  private readonly summary: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly sectionsEl: HTMLElement;
  private keys: string[] = [];
  private entries: string[] | null;
  private chosen = new Set<string>();
  /** The sections the user opened: a render (after every tick) keeps them open. */
  private readonly opened = new Set<string>();

  constructor(
    entries: string[] | null,
    private readonly onChange: (entries: string[] | null, keys: string[]) => void,
  ) {
    this.entries = entries;
    this.summary = h('summary', null, 'Metrics');
    this.search = h('input', {
      className: 'picker-search',
      attrs: { type: 'search', placeholder: 'search metrics…', 'aria-label': 'search metrics' },
      on: { input: () => this.render() },
    });
    const button = (label: string, title: string, act: () => void): HTMLElement =>
      h('button', { attrs: { type: 'button' }, title, on: { click: act } }, label);
    this.sectionsEl = h('div', { className: 'picker-sections' });
    this.el = h(
      'details',
      { className: 'picker' },
      this.summary,
      h(
        'div',
        { className: 'picker-tools' },
        this.search,
        button('all', 'chart every metric', () => this.choose(new Set(this.keys))),
        button('none', 'chart no metric', () => this.choose(new Set())),
        button('only these', 'chart only the metrics the search finds', () =>
          this.choose(new Set(this.matching())),
        ),
      ),
      this.sectionsEl,
    );
  }

  /** The keys there are (sorted or not); the choice stays. */
  setKeys(keys: readonly string[]): void {
    this.keys = [...keys];
    this.chosen = new Set(chosenKeys(this.keys, this.entries));
    this.render();
  }

  /** The keys chosen, in the order of the entries (section order when every key is). */
  chosenKeys(): string[] {
    return chosenKeys(this.keys, this.entries);
  }

  private matching(): string[] {
    const text = this.search.value.trim().toLowerCase();
    return text === '' ? this.keys : this.keys.filter((k) => k.toLowerCase().includes(text));
  }

  /** `keepOrder`: a key (un)ticked keeps the others where they are (all, none: section order). */
  private choose(chosen: Set<string>, keepOrder = false): void {
    this.chosen = chosen;
    this.entries = entriesFor(this.keys, chosen, keepOrder ? this.entries : null);
    this.render();
    this.onChange(this.entries, this.chosenKeys());
  }

  private toggle(keys: readonly string[], on: boolean): void {
    const next = new Set(this.chosen);
    for (const k of keys) {
      if (on) next.add(k);
      else next.delete(k);
    }
    this.choose(next, true);
  }

  private render(): void {
    this.summary.textContent = `Metrics: ${this.chosen.size.toLocaleString('en-US')} of ${this.keys.length.toLocaleString('en-US')} charted`;
    const searching = this.search.value.trim() !== '';
    const matching = this.matching();
    const sections = sectionsOf(matching);
    replace(
      this.sectionsEl,
      [...sections].map(([prefix, list]) => {
        const all = prefix === '' ? list : this.keys.filter((k) => prefixOf(k) === prefix);
        const picked = all.filter((k) => this.chosen.has(k)).length;
        const box = h('input', {
          attrs: {
            type: 'checkbox',
            checked: picked === all.length,
            'aria-label': `all of ${prefix || 'no prefix'}`,
          },
          on: { change: () => this.toggle(searching ? list : all, box.checked) },
        });
        box.indeterminate = picked > 0 && picked < all.length;
        const keysEl = h('div', { className: 'picker-keys' });
        const fill = (): void =>
          replace(
            keysEl,
            list.slice(0, MAX_LISTED).map((key) => {
              const item = h('input', {
                className: 'picker-key',
                attrs: { type: 'checkbox', checked: this.chosen.has(key), 'data-key': key },
                on: { change: () => this.toggle([key], item.checked) },
              });
              return h('label', null, item, ` ${key}`);
            }),
            list.length > MAX_LISTED
              ? h('span', { className: 'note' }, `… and ${list.length - MAX_LISTED} more: search to narrow`)
              : null,
          );
        const section = h(
          'details',
          {
            className: 'picker-section',
            attrs: {
              'data-prefix': prefix,
              open: searching || sections.size === 1 || this.opened.has(prefix),
            },
            on: {
              toggle: () => {
                // a search opens every section: that is no choice of the user's to keep
                if (!searching) {
                  if (section.open) this.opened.add(prefix);
                  else this.opened.delete(prefix);
                }
                if (section.open && keysEl.childElementCount === 0) fill();
              },
            },
          },
          h(
            'summary',
            null,
            box,
            ` ${prefix === '' ? '(no prefix)' : `${prefix}/`} · ${picked} of ${all.length}${searching ? ` (${list.length} found)` : ''}`,
          ),
          keysEl,
        );
        if (section.open) fill();
        return section;
      }),
    );
  }
}
