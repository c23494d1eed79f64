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

/** The keys of `keys` an entry list chooses (every key for null), in the order of `keys`. */
export function chosenKeys(keys: readonly string[], entries: readonly string[] | null): string[] {
  if (entries === null) return [...keys];
  const exact = new Set(entries);
  const prefixes = entries.filter((e) => e.endsWith('/*')).map((e) => e.slice(0, -2));
  return keys.filter((k) => exact.has(k) || prefixes.includes(prefixOf(k)));
}

/** The shortest entry list for a set of keys: whole sections as `prefix/*`; null for all. */
export function entriesFor(keys: readonly string[], chosen: ReadonlySet<string>): string[] | null {
  if (keys.every((k) => chosen.has(k))) return null;
  const entries: string[] = [];
  for (const [prefix, list] of sectionsOf(keys)) {
    const picked = list.filter((k) => chosen.has(k));
    if (prefix !== '' && picked.length === list.length && picked.length > 1) entries.push(`${prefix}/*`);
    else entries.push(...picked);
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

  /** The keys chosen, in section order. */
  chosenKeys(): string[] {
    return [...sectionsOf(this.keys).values()].flat().filter((k) => this.chosen.has(k));
  }

  private matching(): string[] {
    const text = this.search.value.trim().toLowerCase();
    return text === '' ? this.keys : this.keys.filter((k) => k.toLowerCase().includes(text));
  }

  private choose(chosen: Set<string>): void {
    this.chosen = chosen;
    this.entries = entriesFor(this.keys, chosen);
    this.render();
    this.onChange(this.entries, this.chosenKeys());
  }

  private toggle(keys: readonly string[], on: boolean): void {
    const next = new Set(this.chosen);
    for (const k of keys) {
      if (on) next.add(k);
      else next.delete(k);
    }
    this.choose(next);
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
            attrs: { 'data-prefix': prefix, open: searching || sections.size === 1 },
            on: { toggle: () => section.open && keysEl.childElementCount === 0 && fill() },
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
