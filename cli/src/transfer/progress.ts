/** The progress line of `import`, `export` and `copy` on a terminal. */
import type { TransferProgress } from './TransferSource';

/** How often the line is drawn again: often enough to look alive, rarely enough to cost nothing. */
const REDRAW_MS = 200;

const count = new Intl.NumberFormat('en-US');

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * A one-line progress display: runs done (of how many, when known), events, their rate and the
 * time taken, drawn again in place on a terminal. Where the output is no terminal (a log file, a
 * pipe, CI) it draws nothing: the summary at the end says what was done.
 */
export class ProgressLine implements TransferProgress {
  private runs = 0;
  private eventCount = 0;
  private readonly started = Date.now();
  private drawn = 0;
  private shown = false;

  /**
   * @param write where the line goes (standard error), or undefined to draw nothing
   * @param label what is being done (`copying`, `importing`, `exporting`)
   * @param totalRuns how many runs there are, when known
   */
  constructor(
    private readonly write: ((text: string) => unknown) | undefined,
    private readonly label: string,
    public totalRuns?: number,
  ) {}

  events(n: number): void {
    this.eventCount += n;
    this.draw(false);
  }

  run(): void {
    this.runs++;
    this.draw(false);
  }

  /** Draws the line a last time and ends it, so the summary starts on a line of its own. */
  finish(): void {
    this.draw(true);
    if (this.shown) this.write?.('\n');
  }

  private draw(force: boolean): void {
    if (!this.write) return;
    const now = Date.now();
    if (!force && now - this.drawn < REDRAW_MS) return;
    this.drawn = now;
    const elapsed = now - this.started;
    const rate = elapsed > 0 ? Math.round((this.eventCount * 1000) / elapsed) : 0;
    const runs = this.totalRuns !== undefined ? `${this.runs}/${this.totalRuns}` : String(this.runs);
    // \r and erase-line: the line is drawn over itself
    this.write(
      `\r\u001b[2K${this.label}: runs ${runs} · events ${count.format(this.eventCount)} · ` +
        `${count.format(rate)} events/s · ${clock(elapsed)}`,
    );
    this.shown = true;
  }
}
