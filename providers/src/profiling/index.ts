export { OmegaProfilingTracker } from './OmegaProfilingTracker';
export { BackgroundProfiler } from './BackgroundProfiler';
export type { BackgroundProfilerOptions, ProfileSample } from './BackgroundProfiler';
export { METRIC_GROUPS, METRIC_KEYS, validateMetrics, validateInterval } from './metrics';
export type { MetricGroup } from './metrics';
export { SystemSampler } from './SystemSampler';
export type { SampleValues } from './SystemSampler';
