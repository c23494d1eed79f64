/**
 * The virtualized grid of a page's charts (issue 24: a run with 3,000 metric keys froze the tab).
 * Slots of the chart's size are laid out in batches as the page scrolls toward them (3,000 empty
 * slots at once cost the page 350 ms of layout), each section with a spacer after its last slot
 * as tall as its slots still to come, so the page has its full height and the scrollbar means
 * something.
 * A chart (its DOM, its uPlot canvas, its fetched points) is built only while its slot is near
 * the viewport (one IntersectionObserver) and dropped again, back to an empty slot of the same
 * size, when it is scrolled far away. Slots come in sections by the key's prefix (the part
 * before the first '/': `train/`, `val/`, `system/`).
 */
import type { ChartCard } from './chart';
import { h, replace } from './dom';
import { naturalCompare } from './naturalCompare';

/** The section of a key: the part before its first '/', or '' for a key without one. */
export function prefixOf(key: string): string {
  const i = key.indexOf('/');
  return i > 0 ? key.slice(0, i) : '';
}

/** Keys by section, the sections in natural order with the keys without a prefix first. */
export function sectionsOf(keys: readonly string[]): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  const sorted = [...keys].sort((a, b) => {
    const pa = prefixOf(a);
    const pb = prefixOf(b);
    return pa === pb ? naturalCompare(a, b) : pa === '' ? -1 : pb === '' ? 1 : naturalCompare(pa, pb);
  });
  for (const key of sorted) {
    const p = prefixOf(key);
    let list = sections.get(p);
    if (!list) sections.set(p, (list = []));
    list.push(key);
  }
  return sections;
}

/**
 * Keys in the order given (the `charts=` of the URL), cut into sections where the prefix changes:
 * `train/a, train/b, val/x, train/c` is three sections, train/ twice, so that no chart moves.
 */
export function sectionRuns(keys: readonly string[]): Array<[string, string[]]> {
  const runs: Array<[string, string[]]> = [];
  for (const key of keys) {
    const p = prefixOf(key);
    const last = runs[runs.length - 1];
    if (last && last[0] === p) last[1].push(key);
    else runs.push([p, [key]]);
  }
  return runs;
}

/** Slots laid out at a time (a few screens of charts). */
const SLOT_BATCH = 48;
/** A slot's height, its least width and the gap between slots (style.css: .chart-slot, .charts). */
const SLOT_HEIGHT_PX = 330;
const SLOT_MIN_WIDTH_PX = 520;
const SLOT_GAP_PX = 12;

/** A section of the grid: its keys, how many have a slot yet, and the spacer standing for the rest. */
interface GridSection {
  keys: string[];
  laidOut: number;
  charts: HTMLElement;
  spacer: HTMLElement;
}

export class ChartGrid {
  readonly el: HTMLElement;
  private readonly slots = new Map<string, HTMLElement>();
  private readonly cards = new Map<string, ChartCard>();
  private readonly bySlot = new Map<Element, string>();
  private readonly observer: IntersectionObserver;
  private keys: string[] = [];
  private readonly sections = new Map<Element, GridSection>();
  /** Watches the sections' spacers: one near the viewport lays out its section's next slots. */
  private readonly more: IntersectionObserver;
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
    this.more = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          const section = this.sections.get(entry.target);
          if (!entry.isIntersecting || !section || section.laidOut >= section.keys.length) continue;
          this.layOut(section, SLOT_BATCH);
          // observed anew, the spacer is reported at once: still near, the next batch follows
          this.more.unobserve(section.spacer);
          if (section.laidOut < section.keys.length) this.more.observe(section.spacer);
        }
      },
      { rootMargin: '100% 0px' },
    );
    window.addEventListener('resize', this.onResize);
  }

  /**
   * The keys to chart, in this order (a section where the prefix changes); charts of keys kept
   * stay as they are.
   */
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
    this.el.dataset.keys = String(next.length);
    this.more.disconnect();
    this.sections.clear();
    const sections = sectionRuns(next);
    replace(
      this.el,
      sections.map(([prefix, keys]) => {
        const section: GridSection = {
          keys,
          laidOut: 0,
          charts: h('div', { className: 'charts' }),
          spacer: h('div', { className: 'chart-spacer' }),
        };
        this.sections.set(section.spacer, section);
        return h(
          'section',
          { className: 'chart-section', attrs: { 'data-prefix': prefix, 'data-keys': keys.length } },
          sections.length > 1 || prefix !== ''
            ? h('h3', null, prefix === '' ? `(no prefix) · ${keys.length}` : `${prefix}/ · ${keys.length}`)
            : null,
          section.charts,
          section.spacer,
        );
      }),
    );
    const perRow = this.perRow();
    for (const section of this.sections.values()) {
      this.sizeSpacer(section, perRow);
      this.more.observe(section.spacer);
    }
  }

  /** Slots a row of the grid holds (its CSS: auto-fill columns of at least SLOT_MIN_WIDTH_PX). */
  private perRow(): number {
    return Math.max(1, Math.floor((this.el.clientWidth + SLOT_GAP_PX) / (SLOT_MIN_WIDTH_PX + SLOT_GAP_PX)));
  }

  /** The spacer as tall as the rows of the section's slots still to come. */
  private sizeSpacer(section: GridSection, perRow: number): void {
    const left = section.keys.length - section.laidOut;
    section.spacer.style.height = `${Math.ceil(left / perRow) * (SLOT_HEIGHT_PX + SLOT_GAP_PX)}px`;
  }

  /** Lays out a section's next `n` slots. */
  private layOut(section: GridSection, n: number): void {
    const end = Math.min(section.keys.length, section.laidOut + n);
    const slots: HTMLElement[] = [];
    for (; section.laidOut < end; section.laidOut++) slots.push(this.slotOf(section.keys[section.laidOut]));
    section.charts.append(...slots);
    this.sizeSpacer(section, this.perRow());
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
    this.more.disconnect();
    window.removeEventListener('resize', this.onResize);
    if (this.resizeTimer !== undefined) clearTimeout(this.resizeTimer);
    for (const card of this.cards.values()) card.dispose();
    this.cards.clear();
    this.slots.clear();
    this.bySlot.clear();
  }
}
