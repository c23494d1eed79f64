/**
 * omega-track/internal: what the command line, the UI server and the tests share beside the root
 * entry's API — the parser, downsampling, and the other packages' internal building blocks. No
 * stable API.
 */
export { runCli, parseRunOption } from './commands/cli';
export type { CliIO } from './commands/cli';

export {
  downsampleRange,
  downsampleSeries,
  minMaxLttb,
  minMaxPreselect,
  MAX_NON_FINITE,
} from './ui/server/downsample';
export type {
  DownsampledSeries,
  DownsampleOptions,
  NonFinitePoint,
  RangeSeries,
} from './ui/server/downsample';

export { validateValueLength } from '@omega-track/core/internal';

export {
  diag,
  redactUrls,
  describeValue,
  BASE_FIELDS,
  validateKey,
  validateStep,
  validateValue,
  validateExperimentName,
  encodeValue,
  decodeValue,
  toStorableDocument,
  resolveTime,
  resolveEventTime,
  resolveQuery,
  windowRows,
  runsFromEvents,
  summarize,
  quantile,
  stopStatus,
  flushOnExit,
  forgetOnExit,
  NODE_NAME,
  currentUserId,
  startEvent,
  systemInfo,
  installedPackages,
  EXPERIMENT_KIND,
  EXPERIMENT_PREFIX,
  deleteExperimentData,
  SqliteStore,
  MongoStore,
  PostgresStore,
  encodeChunk,
  encodeChunks,
  groupByRun,
  decodeChunk,
  rowFilter,
  sortByTime,
  CHUNK_SIZE,
  isJsonPlain,
  isStructuredClonable,
  isBinary,
  isTypedArray,
  INLINE_LIMIT_BYTES,
  classifyArtifact,
  eagerWrite,
  encodeArtifact,
  decodeArtifact,
  artifactReferences,
  artifactBlobPrefix,
  ARTEFACT_PREFIX,
  validateEventName,
  validateDepth,
  MAX_DATE_MS,
  queryExperiment,
  resolveExperimentQuery,
  summarizeColumns,
  summarizeLog,
  markCrashed,
  isCrashed,
  heartbeatIntervalMs,
  crashAfterMs,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_CRASH_AFTER_MS,
  ExperimentModelsBackend,
  DEFAULT_LOCK_TIMEOUT_MS,
  decodeChunkColumns,
  orderTime,
  storeUrl,
  parseNamePattern,
  nestingExceeds,
  isArtifactSource,
  artifactSourceValues,
  artifactSourceOf,
  DEFAULT_RUNTIME_QUEUE,
  TaskRunner,
  headlineScore,
  encodeTaskArgument,
  resolveTaskInput,
  describeTaskData,
  arrayShape,
  encodeWire,
  decodeWire,
  decodeTaskWire,
  checkTaskInputSize,
  checkTaskResultSize,
  findTask,
  taskStatusOf,
  TASK_EVENTS,
  TASK_METHODS,
  LocalExecutor,
  RedisExecutor,
  startRedisWorker,
  processRedisJob,
  loadBullmq,
  redisConnection,
  connectTimeoutMs,
  checkDatabase,
  parseRunFilter,
  parseRunOrder,
  RUN_ATTRIBUTES,
  matchesRunFilter,
  compileLike,
  decimalNumber,
  filterTime,
  sortRuns,
  fieldValue,
  runTableFromStats,
  runTableFromEvents,
  RUN_TABLE_EVENTS,
  parseRunSearch,
  searchRunTable,
  readRunTable,
  STATS_EVENTS,
  validateRunMetadata,
  checkDeleteRun,
} from '@omega-track/core/internal';

export type { LikeMatcher } from '@omega-track/core/internal';
export type {
  ExperimentQuery,
  NamePattern,
  SqliteStoreOptions,
  MongoStoreOptions,
  PostgresStoreOptions,
  RunContext,
  ProviderResolver,
  EncodedChunk,
  RowFilter,
  ScopeStamp,
  RunScope,
  RuntimeContext,
  TaskAttempt,
  TaskData,
  TaskRequest,
  TaskOutcome,
  TaskTracking,
  TaskRun,
  TaskProgress,
  RedisExecutorOptions,
  RedisWorkerOptions,
  RedisWorkerHandle,
  RunStatsRow,
  RunStatsDelta,
} from '@omega-track/core/internal';

export {
  validateMetrics,
  validateInterval,
  SystemSampler,
  defaultSpoolPath,
  MlflowClient,
  MlflowSpool,
  MlflowSender,
  chunkBatch,
  validateMlflowKey,
  encodeMetricValue,
  decodeMetricValue,
  machineFacts,
} from '@omega-track/providers/internal';

export type {
  MlflowClientOptions,
  MlflowExperiment,
  MlflowFileInfo,
  MlflowKeyValue,
  MlflowMetric,
  MlflowRun,
  MlflowRunInfo,
  MlflowRunStatus,
} from '@omega-track/providers/internal';

export { tfjsModelBackend, TfjsLayersBackend, isLayersModel, loadTfjs } from '@omega-track/adapters/internal';

export type { Tfjs } from '@omega-track/adapters/internal';

export { TokenRegistry, TOKEN_CACHE_MS } from './server/tokens/TokenRegistry';
export {
  TOKEN_ROLES,
  validateTokenName,
  validateTokenRole,
  validateExperimentsPattern,
  tokenAllows,
  roleAllows,
  looksLikeToken,
} from './server/tokens/tokenTypes';
export type { TokenInfo, TokenRole } from './server/tokens/tokenTypes';

export { exportFiles } from './transfer/files/exportFiles';
export type { ExportFilesOptions, ExportSummary } from './transfer/files/exportFiles';
export { openExportFiles } from './transfer/files/openExportFiles';
export { ExportFileError } from './transfer/files/ExportFileError';
export type {
  ContentSource,
  SourceExperiment,
  SourceRun,
  TransferLog,
  TransferProgress,
  TransferSource,
} from './transfer/TransferSource';
export {
  tensorboardSource,
  TfRecordReader,
  decodeEvent,
  crc32c,
  maskedCrc32c,
  TensorboardFormatError,
} from './transfer/tensorboard';
export { mlflowSource } from './transfer/mlflow/mlflowSource';
export { NotMlflowServerError } from './transfer/mlflow/NotMlflowServerError';
export { pushToMlflow } from './transfer/mlflow/pushToMlflow';
export { transferRuns } from './transfer/transferRuns';
export { storeSource } from './transfer/storeSource';
