import type { PendingEvent, Store } from '@omega-track/core';
import { SqliteStore } from '@omega-track/core/internal';

/**
 * The real in-memory store, with a switch that makes every write fail: a stand-in for a disk
 * that is full or a database that went away, to test what tracking does then.
 */
export class FlakyStore extends SqliteStore {
  failing = false;
  failures = 0;

  constructor() {
    super(':memory:', 'memory:');
  }

  private check(): void {
    if (this.failing) {
      this.failures++;
      throw new Error('disk I/O error (simulated)');
    }
  }

  override async appendEvents(experiment: string, events: readonly PendingEvent[]): Promise<void> {
    this.check();
    await super.appendEvents(experiment, events);
  }

  override async putBlob(key: string, data: Uint8Array): Promise<void> {
    this.check();
    return super.putBlob(key, data);
  }
}

export type { Store };
