/** What every page is: an element, a refresh for live updates and a disposal. */
import type { LiveFeed } from '../live';

export interface Crumb {
  label: string;
  href?: string;
}

export interface PageContext {
  live: LiveFeed;
  setCrumbs(crumbs: Crumb[]): void;
}

export interface Page {
  el: HTMLElement;
  /** The experiment whose changes refresh the page; null for changes of any experiment. */
  live?: string | null;
  /** Fetches again what the page shows (live updates). */
  refresh?(): Promise<void>;
  dispose?(): void;
}
