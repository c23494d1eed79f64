/** @omega-track/providers: the built-in tracking providers and their registration. */
export { OmegaSimpleTracker } from './default';
export { NoTrackTracker } from './notrack';
export { OmegaProfilingTracker, BackgroundProfiler, METRIC_GROUPS, METRIC_KEYS } from './profiling';
export type { BackgroundProfilerOptions, ProfileSample, MetricGroup, SampleValues } from './profiling';
export {
  MlflowTracker,
  MlflowApiError,
  MlflowArtifactsUnreachableError,
  MlflowUnavailableError,
  MLFLOW_LIMITS,
} from './mlflow';
export type { MlflowTrackerOptions } from './mlflow';
export { registerBuiltinProviders } from './registerBuiltinProviders';
