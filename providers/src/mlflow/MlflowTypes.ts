/** MLflow REST entities (proto3 JSON, MLflow 2.x/3.x), as far as omega-track uses them. */

export type MlflowRunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

/** Which runs a search sees: the active ones (MLflow's default), the deleted ones, or all. */
export type MlflowViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

/** A metric value as MLflow takes it: a number, or one of the strings for non-finite values. */
export type MlflowMetricValue = number | 'NaN' | 'Infinity' | '-Infinity';

export interface MlflowMetric {
  key: string;
  /** As sent: a number or a non-finite string; as read back, numeric strings may appear too. */
  value: number | string;
  timestamp: number;
  step?: number;
}

export interface MlflowKeyValue {
  key: string;
  value: string;
}

export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: 'active' | 'deleted';
  creation_time?: number;
  last_update_time?: number;
  tags?: MlflowKeyValue[];
}

export interface MlflowRunInfo {
  run_id: string;
  run_name?: string;
  experiment_id: string;
  user_id?: string;
  status: MlflowRunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: 'active' | 'deleted';
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics?: MlflowMetric[]; params?: MlflowKeyValue[]; tags?: MlflowKeyValue[] };
}

export interface MlflowFileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** MLflow's limits for one log-batch request (mlflow/utils/validation.py). */
export const MLFLOW_LIMITS = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  entitiesPerBatch: 1000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  historyPage: 25_000,
} as const;
