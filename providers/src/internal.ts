/** @omega-track/providers/internal: the providers' building blocks (MLflow client, spool, sampler); no stable API. */

export { validateMetrics, validateInterval, SystemSampler } from './profiling';

export {
  defaultSpoolPath,
  MlflowClient,
  MlflowSpool,
  MlflowSender,
  chunkBatch,
  validateMlflowKey,
  encodeMetricValue,
  decodeMetricValue,
} from './mlflow';
export type {
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
