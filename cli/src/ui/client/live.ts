/**
 * Live updates pushed by the server: one EventSource on /api/live, scoped to the experiment the
 * page shows. An `update` for it triggers the page's refresh, coalesced: the first update waits
 * DEBOUNCE_MS for others to join it, and a refresh still in flight holds the next one back, so a
 * run flushing every 200 ms costs one re-fetch at a time and is shown within about a second.
 */
import { apiUrl } from './api';

const DEBOUNCE_MS = 300;

export type LiveState = 'connecting' | 'live' | 'offline';

export class LiveFeed {
  private source: EventSource | undefined;
  private experiment: string | null | undefined = undefined;
  private onUpdate: (() => Promise<void> | void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private pending = false;

  constructor(private readonly onState: (state: LiveState) => void) {}

  /** Listens for changes of `experiment` (null: of any experiment) and calls `onUpdate` for them. */
  watch(experiment: string | null, onUpdate: () => Promise<void> | void): void {
    this.onUpdate = onUpdate;
    this.pending = false;
    if (this.source && this.experiment === experiment) return;
    this.close();
    this.experiment = experiment;
    this.onState('connecting');
    const source = new EventSource(apiUrl('/api/live', experiment === null ? {} : { experiment }));
    this.source = source;
    source.onopen = () => this.onState('live');
    // EventSource reconnects by itself after an error; until then the page shows it is offline
    source.onerror = () => this.onState(source.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
    source.addEventListener('update', (event) => {
      let changed: unknown;
      try {
        changed = (JSON.parse((event as MessageEvent<string>).data) as { experiment?: unknown }).experiment;
      } catch {
        changed = undefined;
      }
      if (this.experiment === null || changed === undefined || changed === this.experiment) this.schedule();
    });
  }

  /** Stops listening (the page has no live content). */
  close(): void {
    this.source?.close();
    this.source = undefined;
    this.experiment = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.running) {
      this.pending = true;
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, DEBOUNCE_MS);
  }

  private async run(): Promise<void> {
    const onUpdate = this.onUpdate;
    if (!onUpdate) return;
    this.running = true;
    try {
      await onUpdate();
    } catch {
      // a failed refresh leaves the page as it was; the next update tries again
    } finally {
      this.running = false;
    }
    if (this.pending) {
      this.pending = false;
      this.schedule();
    }
  }
}
