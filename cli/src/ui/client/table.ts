/**
 * A paged table: only one page of rows is ever in the DOM, and the rows come from a loader
 * (the server sorts and pages the runs of an experiment, so 10,000 runs cost one page of JSON
 * and DOM). Clicking a sortable header sorts by it; clicking it again reverses the order.
 */
import type { Child } from './dom';
import { h, replace } from './dom';

export interface Column<T> {
  id: string;
  label: string;
  /** Shown in the header instead of the label (the pick-all checkbox). */
  header?: Node;
  cell(row: T): Child;
  /** Present when the column sorts: what the loader is given. */
  sort?: string;
  className?: string;
  title?: string;
}

export interface Sort {
  key: string;
  descending: boolean;
}

export interface TablePage<T> {
  rows: T[];
  total: number;
}

export interface TableOptions<T> {
  columns: Column<T>[];
  load(query: { offset: number; limit: number; sort: Sort | undefined }): Promise<TablePage<T>>;
  pageSize?: number;
  sort?: Sort;
  /** A class for a row (e.g. its status). */
  rowClass?(row: T): string;
  /** What the table says when there are no rows. */
  empty?: string;
  onSortChange?(sort: Sort | undefined): void;
}

export class PagedTable<T> {
  readonly el: HTMLElement;
  private readonly table = h('table', { className: 'grid' });
  private readonly pager = h('div', { className: 'pager' });
  private readonly message = h('p', { className: 'note info' });
  private columns: Column<T>[];
  private offset = 0;
  private sort: Sort | undefined;
  private readonly pageSize: number;
  private total = 0;
  private sequence = 0;
  rows: T[] = [];

  constructor(private readonly options: TableOptions<T>) {
    this.columns = options.columns;
    this.sort = options.sort;
    this.pageSize = options.pageSize ?? 100;
    this.el = h(
      'div',
      { className: 'table-wrap' },
      h('div', { className: 'scroll' }, this.table),
      this.pager,
    );
  }

  setColumns(columns: Column<T>[]): void {
    this.columns = columns;
  }

  currentSort(): Sort | undefined {
    return this.sort;
  }

  /** Sets the sort without loading (the caller reloads). */
  setSort(sort: Sort | undefined): void {
    this.sort = sort;
  }

  /** Loads the current page again (live updates, a new filter with `first`). */
  async reload(first = false): Promise<void> {
    if (first) this.offset = 0;
    const sequence = ++this.sequence;
    let page: TablePage<T>;
    try {
      page = await this.options.load({ offset: this.offset, limit: this.pageSize, sort: this.sort });
    } catch (error) {
      if (sequence !== this.sequence) return;
      throw error;
    }
    // a slower answer to an older request must not replace a newer one
    if (sequence !== this.sequence) return;
    if (page.rows.length === 0 && this.offset > 0 && page.total > 0) {
      this.offset = Math.max(0, Math.floor((page.total - 1) / this.pageSize) * this.pageSize);
      return this.reload();
    }
    this.rows = page.rows;
    this.total = page.total;
    this.render();
  }

  /** Draws the rows again from what is loaded (a checkbox state changed elsewhere). */
  render(): void {
    // the cells go as lists, never spread into arguments: a table may have 100,000 columns
    const head = h(
      'tr',
      null,
      this.columns.map((c) => {
        const active = this.sort && c.sort !== undefined && this.sort.key === c.sort;
        const th = h(
          'th',
          {
            className: [c.className, c.sort !== undefined ? 'sortable' : '', active ? 'sorted' : '']
              .filter(Boolean)
              .join(' '),
            title: c.title ?? (c.sort !== undefined ? `sort by ${c.label}` : undefined),
            attrs: {
              'data-col': c.id,
              'aria-sort': active ? (this.sort!.descending ? 'descending' : 'ascending') : undefined,
            },
          },
          c.header ?? c.label,
          active ? (this.sort!.descending ? ' ▼' : ' ▲') : '',
        );
        if (c.sort !== undefined) th.addEventListener('click', () => this.sortBy(c.sort!));
        return th;
      }),
    );
    const body = h(
      'tbody',
      null,
      this.rows.map((row) =>
        h(
          'tr',
          { className: this.options.rowClass?.(row) ?? '' },
          this.columns.map((c) => h('td', { className: c.className ?? '' }, c.cell(row))),
        ),
      ),
    );
    replace(this.table, h('thead', null, head), body);
    this.renderPager();
  }

  private renderPager(): void {
    if (this.total === 0) {
      this.message.textContent = this.options.empty ?? 'Nothing to show.';
      replace(this.pager, this.message);
      return;
    }
    const from = this.offset + 1;
    const to = this.offset + this.rows.length;
    const pages = Math.max(1, Math.ceil(this.total / this.pageSize));
    const page = Math.floor(this.offset / this.pageSize) + 1;
    const go = (offset: number): void => {
      this.offset = Math.min(Math.max(0, offset), (pages - 1) * this.pageSize);
      void this.reload().catch((error: unknown) => this.showError(error));
    };
    const button = (label: string, enabled: boolean, offset: number, title: string): HTMLButtonElement =>
      h(
        'button',
        { attrs: { type: 'button', disabled: !enabled }, title, on: { click: () => go(offset) } },
        label,
      );
    replace(
      this.pager,
      button('«', page > 1, 0, 'first page'),
      button('‹', page > 1, this.offset - this.pageSize, 'previous page'),
      h('span', { className: 'range' }, `${from}–${to} of ${this.total}`),
      button('›', page < pages, this.offset + this.pageSize, 'next page'),
      button('»', page < pages, (pages - 1) * this.pageSize, 'last page'),
    );
  }

  private sortBy(key: string): void {
    if (this.sort?.key === key) this.sort = { key, descending: !this.sort.descending };
    else this.sort = { key, descending: false };
    this.options.onSortChange?.(this.sort);
    void this.reload(true).catch((error: unknown) => this.showError(error));
  }

  showError(error: unknown): void {
    this.message.textContent = error instanceof Error ? error.message : String(error);
    this.message.className = 'note error';
    replace(this.pager, this.message);
  }
}

/** A loader over rows held in memory (the experiments list): filtering is the caller's. */
export function memoryLoader<T>(
  rows: () => T[],
  value: (row: T, key: string) => string | number | null | undefined,
): TableOptions<T>['load'] {
  return async ({ offset, limit, sort }) => {
    let all = rows();
    if (sort) {
      const dir = sort.descending ? -1 : 1;
      all = [...all].sort((a, b) => {
        const va = value(a, sort.key);
        const vb = value(b, sort.key);
        // missing values last in both directions, as the run table does
        if (va === null || va === undefined) return vb === null || vb === undefined ? 0 : 1;
        if (vb === null || vb === undefined) return -1;
        if (typeof va === 'number' && typeof vb === 'number') return (va - vb) * dir;
        return String(va).localeCompare(String(vb)) * dir;
      });
    }
    return { rows: all.slice(offset, offset + limit), total: all.length };
  };
}
