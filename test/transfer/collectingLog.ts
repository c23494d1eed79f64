import type { TransferLog } from 'omega-track/internal';

/** A transfer log that keeps what it is told, for the tests to read. */
export class CollectingLog implements TransferLog {
  skips: Array<{ what: string; why: string }> = [];
  notes: string[] = [];
  skipped(what: string, why: string): void {
    this.skips.push({ what, why });
  }
  note(message: string): void {
    this.notes.push(message);
  }
}
