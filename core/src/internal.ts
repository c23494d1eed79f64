/**
 * @omega-track/core/internal: every building block the omega-track packages share — chunk codecs,
 * store implementations, query resolution, runtime wiring. Not a stable API: names here change
 * without notice between versions. Applications and plugins use the root entry.
 */
export { TrackingError } from './errors/TrackingError';
export { TrackingInputError } from './errors/TrackingInputError';
export { UnknownProviderError } from './errors/UnknownProviderError';
export { ProviderPackageNotInstalledError } from './errors/ProviderPackageNotInstalledError';
export { NoActiveRunError } from './errors/NoActiveRunError';
export { StoreError } from './errors/StoreError';
export type { StoreErrorCode } from './errors/StoreError';
export { diag, setDiagWriter, defaultErrorHandler, redactUrls, describeValue } from './diag/diag';
export type { ErrorHandler, DiagWriter } from './diag/diag';
export type {
  ArtifactFormat,
  ArtifactValue,
  EventOptions,
  EventColumnBatch,
  EventQuery,
  EventValue,
  MetricSummary,
  PendingEvent,
  ResolvedQuery,
  RunInfo,
  RunQuery,
  MetricAggregate,
  RunSelector,
  RunStatus,
  TimeSpec,
  TrackingEvent,
} from './events/types';
export { BASE_FIELDS } from './events/types';
export {
  validateKey,
  validateStep,
  validateValue,
  validateExperimentName,
  validateEventName,
  validateDepth,
  validateValueLength,
  MAX_NAME_LENGTH,
  MAX_VALUE_DEPTH,
  MAX_TAG_VALUE_LENGTH,
  MAX_PARAM_VALUE_LENGTH,
  MAX_TAGS_PER_RUN,
  RESERVED_EVENT_NAMES,
} from './events/validation';
export { encodeValue, decodeValue, toStorableDocument } from './events/valueCodec';
export { resolveTime, resolveEventTime, MAX_DATE_MS } from './events/time';
export { resolveQuery, windowRows, queryExperiment, resolveExperimentQuery } from './events/query';
export type { RunContext, ExperimentQuery } from './events/query';
export {
  runsFromEvents,
  summarize,
  summarizeColumns,
  summarizeLog,
  quantile,
  stopStatus,
} from './events/stats';
export {
  TrackingProvider,
  validateRunMetadata,
  checkDeleteRun,
  MAX_NOTE_LENGTH,
} from './providers/TrackingProvider';
export type {
  RunMetadata,
  StartOptions,
  StopOptions,
  FlushOptions,
  FlushResult,
  IterateOptions,
} from './providers/TrackingProvider';
export {
  markCrashed,
  isCrashed,
  heartbeatIntervalMs,
  crashAfterMs,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_CRASH_AFTER_MS,
} from './providers/liveness';
export type { ProviderContext } from './providers/ProviderContext';
export { flushOnExit, forgetOnExit } from './providers/exitFlush';
export type { ExitFlushable } from './providers/exitFlush';
export { NODE_NAME, currentUserId, startEvent } from './providers/identity';
export { systemInfo, installedPackages } from './providers/systemInfo';
export { ProviderRegistry } from './registry/ProviderRegistry';
export type { ProviderClass, ProviderTypes } from './registry/ProviderRegistry';
export { OmegaTrackingProxy } from './proxy/OmegaTrackingProxy';
export type { ProviderResolver, ProxyOptions, RunOptions } from './proxy/OmegaTrackingProxy';
export type { ScopeStamp, RunScope } from './providers/runScope';
export { activeExperiment, withActiveExperiment } from './proxy/activeExperiment';
export { ExperimentBackend, EXPERIMENT_KIND, EXPERIMENT_PREFIX } from './experiments/ExperimentBackend';
export type { ExperimentConfig, ExperimentOptions } from './experiments/ExperimentBackend';
export { ExperimentModelsBackend } from './experiments/ExperimentModelsBackend';
export { deleteExperimentData } from './experiments/deleteExperimentData';
export type { Store, EventLog, MetadataEntry, Bucket, RunLiveness } from './store/Store';
export { SqliteStore, DEFAULT_LOCK_TIMEOUT_MS } from './store/sqlite/SqliteStore';
export type { SqliteStoreOptions } from './store/sqlite/SqliteStore';
export { MongoStore } from './store/mongodb/MongoStore';
export type { MongoStoreOptions } from './store/mongodb/MongoStore';
export { PostgresStore, BLOB_PART_BYTES as PG_BLOB_PART_BYTES } from './store/postgres/PostgresStore';
export type { PostgresStoreOptions } from './store/postgres/PostgresStore';
export { parsePgUrl, isPostgresUrl } from './store/postgres/pgUrl';
export {
  eventFilter as mongoEventFilter,
  eventFindOptions as mongoFindOptions,
  prefixRange as mongoPrefixRange,
  runComparisonFilter as mongoRunComparisonFilter,
  runFilterConditions as mongoRunFilterConditions,
  EVENT_SORT as MONGO_EVENT_SORT,
} from './store/mongodb/mongoQuery';
export type { MongoFilter } from './store/mongodb/mongoQuery';
export {
  parseMongoUrl,
  scrubSecrets as scrubMongoSecrets,
  mongoClientOptions,
  isMongoUrl,
  DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
} from './store/mongodb/mongoUrl';
export type { MongoUrl } from './store/mongodb/mongoUrl';
export { toMongoStoreError } from './store/mongodb/mongoErrors';
export {
  eventsCollectionName as mongoEventsCollection,
  COLLECTIONS as MONGO_COLLECTIONS,
  BLOB_BUCKET as MONGO_BLOB_BUCKET,
  EVENT_INDEXES as MONGO_EVENT_INDEXES,
} from './store/mongodb/mongoSchema';
export {
  storeValue as mongoStoreValue,
  readValue as mongoReadValue,
  eventDoc as mongoEventDoc,
  eventFromDoc as mongoEventFromDoc,
  entryUpdate as mongoEntryUpdate,
  statsUpdate as mongoStatsUpdate,
  EventIds as MongoEventIds,
  columnBatch as mongoColumnBatch,
} from './store/mongodb/mongoDocuments';
export {
  encodeChunk,
  encodeChunks,
  groupByRun,
  decodeChunk,
  decodeChunkColumns,
  orderTime,
  rowFilter,
  sortByTime,
  CHUNK_SIZE,
} from './store/chunks/EventChunk';
export type { EncodedChunk, RowFilter } from './store/chunks/EventChunk';
export { openStore, storeUrl, DEFAULT_STORE_URL } from './store/openStore';
export type { OpenStoreOptions } from './store/openStore';
export { ObjectStore } from './objects/ObjectStore';
export type { PutOptions } from './objects/ObjectStore';
export type {
  ObjectBackend,
  ObjectPutResult,
  ObjectWriteContext,
  BlobStore,
  DropOptions,
} from './objects/ObjectBackend';
export { parseNamePattern } from './objects/namePattern';
export type { NamePattern } from './objects/namePattern';
export { Metadata } from './objects/Metadata';
export {
  isJsonPlain,
  isStructuredClonable,
  isBinary,
  isTypedArray,
  nestingExceeds,
} from './objects/plainValues';
export { INLINE_LIMIT_BYTES } from './objects/builtinBackends';
export {
  classifyArtifact,
  eagerWrite,
  encodeArtifact,
  decodeArtifact,
  artifactReferences,
  artifactBlobPrefix,
  ARTEFACT_PREFIX,
} from './artifacts/ArtifactCodec';
export type { ArtifactStores, EncodedArtifact, ArtifactContent } from './artifacts/ArtifactCodec';
export { isArtifactSource, artifactSourceValues, artifactSourceOf } from './artifacts/artifactSources';
export type { ArtifactSource } from './artifacts/artifactSources';
export { Omega } from './Omega';
export { parseRunFilter, parseRunOrder, FilterSyntaxError, RUN_ATTRIBUTES } from './search/runFilter';
export type {
  RunField,
  FilterOperator,
  FilterLiteral,
  FilterComparison,
  RunFilter,
  RunOrderKey,
} from './search/runFilter';
export { matchesRunFilter, sortRuns, fieldValue } from './search/matchRuns';
export { runTableFromStats, runTableFromEvents, RUN_TABLE_EVENTS } from './search/runTable';
export { parseRunSearch, searchRunTable, readRunTable, runSelector } from './search/searchRuns';
export { OmegaRuns } from './search/OmegaRuns';
export type { RunsSearchOptions } from './search/OmegaRuns';
export type { RunSearch, ParsedRunSearch } from './search/searchRuns';
export { STATS_EVENTS } from './store/chunks/runStats';
export type { RunStatsRow, RunStatsDelta } from './store/chunks/runStats';
export { OmegaRuntime, DEFAULT_RUNTIME_QUEUE } from './runtime/OmegaRuntime';
export type { RuntimeOptions } from './runtime/OmegaRuntime';
export { OmegaModelProxy } from './runtime/OmegaModelProxy';
export { ModelBackend } from './runtime/ModelBackend';
export type {
  ModelBackendClass,
  ModelBackendContext,
  FitResult,
  ScoreResult,
  TaskTrackingHandle,
} from './runtime/ModelBackend';
export { ModelBackendRegistry } from './runtime/ModelBackendRegistry';
export { TaskRunner, headlineScore } from './runtime/TaskRunner';
export type { RuntimeContext, TaskAttempt } from './runtime/TaskRunner';
export { encodeTaskArgument, resolveTaskInput, describeTaskData, arrayShape } from './runtime/taskData';
export type { TaskInput, TaskArgument, TensorLike } from './runtime/taskData';
export { encodeWire, decodeWire, decodeTaskWire } from './runtime/taskWire';
export { TASK_METHODS } from './runtime/types';
export type {
  TaskMethod,
  TaskData,
  TaskRequest,
  TaskOutcome,
  TaskTracking,
  TaskRun,
  TypedArray,
} from './runtime/types';
export type { TaskExecutor } from './runtime/executors/TaskExecutor';
export { LocalExecutor } from './runtime/executors/local/LocalExecutor';
export { RedisExecutor, MAX_TASK_BYTES } from './runtime/executors/redis/RedisExecutor';
export type { TaskProgress } from './runtime/executors/redis/RedisExecutor';
export { startRedisWorker } from './runtime/executors/redis/RedisWorker';
export type { RedisWorkerOptions, RedisWorkerHandle } from './runtime/executors/redis/RedisWorker';
export { processRedisJob } from './runtime/executors/redis/processRedisJob';
export { loadBullmq, redisConnection, connectTimeoutMs } from './runtime/executors/redis/redisConnection';
export { TaskError } from './errors/TaskError';
export type { TaskErrorDetails } from './errors/TaskError';
export { RuntimeUnavailableError } from './errors/RuntimeUnavailableError';
export type { OmegaOptions, Experiment } from './Omega';
