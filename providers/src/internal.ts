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
export {
  OMEGA_TAGS,
  PARENT_RUN_TAG,
  PUSHED_TAG,
  RUN_NAME_TAG,
  RUN_NOTE_TAG,
  jsonArtifactFile,
} from './mlflow/mlflowMapping';
export { createMlflowRun, eventRequests, EVENTS_DIR } from './mlflow/MlflowSender';
export type { RunMapping } from './mlflow/MlflowSpool';
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
