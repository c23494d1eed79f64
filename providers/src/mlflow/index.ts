export { MlflowTracker, defaultSpoolPath } from './MlflowTracker';
export type { MlflowTrackerOptions } from './MlflowTracker';
export { MlflowClient } from './MlflowClient';
export type { MlflowClientOptions } from './MlflowClient';
export { MlflowApiError, MlflowArtifactsUnreachableError, MlflowUnavailableError } from './MlflowErrors';
export { MlflowSpool } from './MlflowSpool';
export { MlflowSender } from './MlflowSender';
export { MLFLOW_LIMITS } from './MlflowTypes';
export type {
  MlflowExperiment,
  MlflowFileInfo,
  MlflowKeyValue,
  MlflowMetric,
  MlflowRun,
  MlflowRunInfo,
  MlflowRunStatus,
  MlflowViewType,
} from './MlflowTypes';
export { mlflowClause, mlflowOrder, planMlflowSearch, searchMlflowRuns, STATS_RUNS } from './mlflowSearch';
export type { MappedRun, MlflowSearchPlan, MlflowSearchContext } from './mlflowSearch';
export { chunkBatch, validateMlflowKey, encodeMetricValue, decodeMetricValue } from './mlflowMapping';
