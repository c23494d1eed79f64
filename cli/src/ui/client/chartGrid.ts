/**
 * The virtualized grid of a page's charts (issue 24: a run with 3,000 metric keys froze the tab).
 * Every chosen key has a slot of the chart's size from the start, so the page has its full height
 * and the scrollbar means something; a chart (its DOM, its uPlot canvas, its fetched points) is
 * built only while its slot is near the viewport (one IntersectionObserver) and dropped again,
 * back to an empty slot of the same size, when it is scrolled far away. Slots come in sections by
 * the key's prefix (the part before the first '/': `train/`, `val/`, `system/`).
 */
import type { ChartCard } from './chart';
import { h, replace } from './dom';

/** The section of a key: the part before its first '/', or '' for a key without one. */
export function prefixOf(key: string): string {
  const i = key.indexOf('/');
  return i > 0 ? key.slice(0, i) : '';
}

/** Keys by section, the sections in name order with the keys without a prefix first. */
export function sectionsOf(keys: readonly string[]): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  const sorted = [...keys].sort((a, b) => {
    const pa = prefixOf(a);
    const pb = prefixOf(b);
    return pa === pb ? a.localeCompare(b) : pa === '' ? -1 : pb === '' ? 1 : pa.localeCompare(pb);
  });
  for (const key of sorted) {
    const p = prefixOf(key);
    let list = sections.get(p);
    if (!list) sections.set(p, (list = []));
    list.push(key);
  }
  return sections;
}

export class ChartGrid {
  readonly el: HTMLElement;
  private readonly slots = new Map<string, HTMLElement>();
  private readonly cards = new Map<string, ChartCard>();
  private readonly bySlot = new Map<Element, string>();
  private readonly observer: IntersectionObserver;
  private keys: string[] = [];
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly onResize = (): void => {
    if (this.resizeTimer !== undefined) clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => this.cards.forEach((c) => c.resize()), 150);
  };

  /** `make` builds the chart of a key (not yet loaded). */
  constructor(private readonly make: (key: string) => ChartCard) {
    this.el = h('div', { className: 'chart-grid' });
    // built within a screen above and below; a built chart is dropped only once it is well
    // out of that (the observer's margin is the same for both, so there is no flicker at the
    // edge: a slot leaves only when it is more than a screen away)
    this.observer = new IntersectionObserver((entries) => this.onIntersect(entries), {
      rootMargin: '100% 0px',
    });
    window.addEventListener('resize', this.onResize);
  }

  /** The keys to chart, in sections; charts of keys kept stay as they are. */
  setKeys(keys: readonly string[]): void {
    const next = [...keys];
    if (next.length === this.keys.length && next.every((k, i) => k === this.keys[i])) return;
    this.keys = next;
    const keep = new Set(next);
    for (const [key, card] of this.cards)
      if (!keep.has(key)) {
        card.dispose();
        this.cards.delete(key);
      }
    for (const [key, slot] of this.slots)
      if (!keep.has(key)) {
        this.observer.unobserve(slot);
        this.bySlot.delete(slot);
        this.slots.delete(key);
      }
    const sections = sectionsOf(next);
    replace(
      this.el,
      [...sections].map(([prefix, list]) =>
        h(
          'section',
          { className: 'chart-section', attrs: { 'data-prefix': prefix } },
          sections.size > 1 || prefix !== ''
            ? h('h3', null, prefix === '' ? `(no prefix) · ${list.length}` : `${prefix}/ · ${list.length}`)
            : null,
          h(
            'div',
            { className: 'charts' },
            list.map((key) => this.slotOf(key)),
          ),
        ),
      ),
    );
  }

  private slotOf(key: string): HTMLElement {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = h('div', { className: 'chart-slot placeholder', attrs: { 'data-key': key } });
      this.slots.set(key, slot);
      this.bySlot.set(slot, key);
      this.observer.observe(slot);
    }
    return slot;
  }

  private onIntersect(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      const key = this.bySlot.get(entry.target);
      if (key === undefined) continue;
      const slot = entry.target as HTMLElement;
      if (entry.isIntersecting) {
        let card = this.cards.get(key);
        if (!card) {
          card = this.make(key);
          this.cards.set(key, card);
          slot.classList.remove('placeholder');
          replace(slot, card.el);
        }
        card.visible = true;
        if (card.stale) void card.load();
      } else {
        const card = this.cards.get(key);
        if (!card) continue;
        // far out of view: the chart, its canvas and its points go; the slot keeps its size
        card.dispose();
        this.cards.delete(key);
        replace(slot);
        slot.classList.add('placeholder');
      }
    }
  }

  /** The charts built now (near the viewport). */
  built(): ChartCard[] {
    return [...this.cards.values()];
  }

  /** New data: the built charts fetch again (the others fetch when they are built). */
  async refresh(): Promise<void> {
    await Promise.all(
      this.built().map((c) => {
        c.stale = true;
        return c.load();
      }),
    );
  }

  /** Smoothing or log scale changed: redraw from the points at hand. */
  redraw(): void {
    for (const card of this.cards.values()) card.draw();
  }

  /** The x mode or the lines changed: everything is fetched again. */
  refetchAll(): void {
    for (const card of this.cards.values()) {
      card.clearZoom();
      card.stale = true;
      void card.load();
    }
  }

  dispose(): void {
    this.observer.disconnect();
    window.removeEventListener('resize', this.onResize);
    if (this.resizeTimer !== undefined) clearTimeout(this.resizeTimer);
    for (const card of this.cards.values()) card.dispose();
    this.cards.clear();
    this.slots.clear();
    this.bySlot.clear();
  }
}
