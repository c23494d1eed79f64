/** TEMP */
import type { ErrorHandler } from '@omega-track/core';
import type { MetricGroup } from '../../profiling/metrics';
export interface ProfileSample {
  dt: number;
  lateness: number;
  values: Record<string, number>;
  gpus: Array<Record<string, number>>;
  step: number;
}
export interface BackgroundProfilerOptions {
  interval?: number;
  metrics?: MetricGroup[];
  onError?: ErrorHandler;
}
export class BackgroundProfiler {
  interval = 10;
  metrics: MetricGroup[] = [];
  running = false;
  threads = 0;
  nextStep = 0;
  readonly lateness: number[] = [];
  constructor(_onSample: (s: ProfileSample) => void, _opts: BackgroundProfilerOptions = {}) {}
  start(): void {}
  async stop(): Promise<void> {}
}
