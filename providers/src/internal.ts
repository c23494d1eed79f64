/** @omega-track/providers/internal: the providers' building blocks (MLflow client, spool, sampler); no stable API. */
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
export {
  MlflowTracker,
  defaultSpoolPath,
  MlflowClient,
  MlflowApiError,
  MlflowArtifactsUnreachableError,
  MlflowUnavailableError,
  MlflowSpool,
  MlflowSender,
  MLFLOW_LIMITS,
  chunkBatch,
  validateMlflowKey,
  encodeMetricValue,
  decodeMetricValue,
} from './mlflow';
export type {
  MlflowTrackerOptions,
  MlflowClientOptions,
  MlflowExperiment,
  MlflowFileInfo,
  MlflowKeyValue,
  MlflowMetric,
  MlflowRun,
  MlflowRunInfo,
  MlflowRunStatus,
} from './mlflow';
export { machineFacts } from './system/machineFacts';
export { registerBuiltinProviders } from './registerBuiltinProviders';
