/** @omega-track/providers: the built-in tracking providers and their registration. */
export { OmegaSimpleTracker } from './default';
export { NoTrackTracker } from './notrack';
export {
  OmegaProfilingTracker,
  BackgroundProfiler,
  METRIC_GROUPS,
  METRIC_KEYS,
  validateMetrics,
  validateInterval,
  SystemSampler,
} from './profiling';
export type { BackgroundProfilerOptions, ProfileSample, MetricGroup, SampleValues } from './profiling';
export { machineFacts } from './system/machineFacts';
export { registerBuiltinProviders } from './registerBuiltinProviders';
