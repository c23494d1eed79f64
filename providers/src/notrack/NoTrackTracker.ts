import type { EventOptions, MetricSummary, RunInfo, RunStatus, TrackingEvent } from '@omega-track/core';
import type { EncodedArtifact } from '@omega-track/core';
import { TrackingProvider } from '@omega-track/core';
import { checkDeleteRun } from '@omega-track/core/internal';

const NOTHING: Promise<unknown[]> = Promise.resolve([]);

/**
 * The `notrack` provider: every call is accepted and dropped. Disabled tracking lands here, so
 * code that tracks never needs to check whether tracking is on.
 */
export class NoTrackTracker extends TrackingProvider {
  async start(): Promise<number> {
    return 0;
  }
  async stop(): Promise<void> {}
  async activeRun(): Promise<number> {
    return 0;
  }
  async status(): Promise<RunStatus> {
    return 'STOPPED';
  }
  async data(): Promise<TrackingEvent[]> {
    return [];
  }
  async *iterate(): AsyncIterable<TrackingEvent[]> {}
  async runs(): Promise<RunInfo[]> {
    return [];
  }
  async summary(): Promise<MetricSummary[]> {
    return [];
  }
  restoreArtifacts(): Promise<unknown[]> {
    return NOTHING;
  }
  async clear(): Promise<void> {}
  async flush(): Promise<void> {}
  async shutdown(): Promise<void> {}

  override logEvent(_event: string, _key: string, _value: unknown, _opts?: EventOptions): void {}
  override setName(_name: string): void {}
  override setTag(_key: string, _value: unknown): void {}
  override setTags(_tags: Record<string, unknown>): void {}
  override setNote(_note: string): void {}
  protected override logRunMetadata(): void {}
  override async deleteRun(run: number, opts: { force?: boolean } = {}): Promise<boolean> {
    checkDeleteRun(this.experiment, run, opts);
    return false;
  }
  override logEvents(_event: string, _key: string, _values: readonly unknown[], _opts?: EventOptions): void {}
  override logMetric(_key: string, _value: unknown, _opts?: EventOptions): void {}
  override logMetrics(_record: Record<string, unknown>, _opts?: EventOptions): void {}
  override logParam(_key: string, _value: unknown, _opts?: EventOptions): void {}
  override logParams(_record: Record<string, unknown>, _opts?: EventOptions): void {}
  override logArtifact(_obj: unknown, _name: string, _opts?: EventOptions): void {}
  override logData(_key: string, _value: unknown, _opts?: EventOptions): void {}
  override logSystem(_key?: string, _value?: unknown, _opts?: EventOptions): void {}
  override logExtra(_fields: Record<string, unknown> | null): void {}

  protected record(): void {}
  protected encodeArtifact(_obj: unknown, name: string): EncodedArtifact {
    return { value: { name, format: 'repr', data: '' }, write: undefined };
  }
}
