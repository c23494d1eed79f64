/**
 * @omega-track/core/internal: the building blocks the omega-track packages share beside the root
 * entry's API — chunk codecs, store implementations, query resolution, runtime wiring. Not a
 * stable API: names here change without notice between versions. Applications and plugins use
 * the root entry (a module needing both imports from both).
 */
export { diag, redactUrls, describeValue } from './diag/diag';
export { randomUUID } from './process/randomId';
export { env, processId, runSoon, unrefTimer, yieldToLoop } from './process/env';
export { AsyncScope } from './process/asyncScope';

export { BASE_FIELDS } from './events/types';
export { pendingEventOf } from './events/pendingEvent';
export {
  validateKey,
  validateStep,
  validateValue,
  validateExperimentName,
  validateEventName,
  validateDepth,
  validateValueLength,
  validateEventSize,
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
export { validateRunMetadata, checkDeleteRun } from './providers/TrackingProvider';

export {
  markCrashed,
  isCrashed,
  heartbeatIntervalMs,
  crashAfterMs,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_CRASH_AFTER_MS,
} from './providers/liveness';

export { flushOnExit, forgetOnExit } from './process/exitFlush';

export { NODE_NAME, currentUserId } from './providers/identity';
export { startEvent } from './providers/startEvent';
export { systemInfo, installedPackages } from './providers/systemInfo';
export { registerSystemProbe, probeFacts, probeSample } from './providers/systemProbes';
export type { SystemProbe } from './providers/systemProbes';

export type { ProviderResolver } from './proxy/OmegaTrackingProxy';
export { sweepTrial, withSweepTrial } from './sweep/sweepTrial';
export type { SweepTrialScope } from './sweep/sweepTrial';
export { StoreTrialReporter, LocalTrialReporter } from './sweep/TrialReporter';
export { earlyStopReason } from './sweep/earlyStop';
export { readSweepState } from './sweep/sweepState';
export type { SweepState, TrialRecord, ModelSweepRecord } from './sweep/sweepState';
export { rankTrials, sweepResult } from './sweep/SweepController';
export type { ScopeStamp, RunScope } from './providers/runScope';

export { EXPERIMENT_KIND, EXPERIMENT_PREFIX } from './experiments/ExperimentBackend';

export { ExperimentModelsBackend } from './experiments/ExperimentModelsBackend';
export { deleteExperimentData } from './experiments/deleteExperimentData';

export { SqliteStore, DEFAULT_LOCK_TIMEOUT_MS } from './store/sqlite/SqliteStore';
export type { SqliteStoreOptions } from './store/sqlite/SqliteStore';
export { MongoStore } from './store/mongodb/MongoStore';
export type { MongoStoreOptions } from './store/mongodb/MongoStore';
export { PostgresStore, BLOB_PART_BYTES as PG_BLOB_PART_BYTES } from './store/postgres/PostgresStore';
export type { PostgresStoreOptions } from './store/postgres/PostgresStore';
export { parsePgUrl, isPostgresUrl } from './store/postgres/pgUrl';
export { HttpSpool, defaultSpoolDir, processAlive } from './store/http/HttpSpool';
export { tokenHint } from './store/http/tokenHint';
export type { SpoolInfo } from './store/http/HttpSpool';
export type { Spool, SpoolBatch } from './store/http/Spool';
export { copyBytes, bytesOf, utf8Bytes, utf8Text } from './process/bytes';
export { HttpStore } from './store/http/HttpStore';
export type { HttpStoreOptions } from './store/http/HttpStore';
export { HttpShipper } from './store/http/HttpShipper';
export type { ShipperSpool, SpoolItem, SpoolBody, ShipperOptions } from './store/http/HttpShipper';
export { HttpFailure } from './store/http/httpErrors';
export {
  encodeBatchColumns,
  eventColumns,
  withBatchId,
  decodeBatchRows,
  decodeStreamLine,
  encodeEntry,
  decodeEntry,
  batchId,
  MAX_BATCH_EVENTS as HTTP_MAX_BATCH_EVENTS,
} from './store/http/httpProtocol';
export { parseHttpUrl, isHttpUrl } from './store/http/httpUrl';
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
export { eventsOfChunks, mergeChunksByTime } from './store/chunks/chunkReads';
export { seededRandom } from './sweep/samplers/prng';
export type { ChunkMeta } from './store/chunks/chunkReads';
export type { EncodedChunk, RowFilter } from './store/chunks/EventChunk';
export { storeUrl } from './store/openStore';

export { parseNamePattern } from './objects/namePattern';
export type { NamePattern } from './objects/namePattern';

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

export { isArtifactSource, artifactSourceValues, artifactSourceOf } from './artifacts/artifactSources';

export { parseRunFilter, parseRunOrder, RUN_ATTRIBUTES } from './filter/runFilter';

export { matchesRunFilter, sortRuns, fieldValue } from './search/matchRuns';
export { compileLike } from './filter/likeMatcher';
export type { LikeMatcher } from './filter/likeMatcher';
export { decimalNumber, filterTime } from './filter/filterValues';
export { runTableFromStats, runTableFromEvents, RUN_TABLE_EVENTS } from './search/runTable';
export { parseRunSearch, searchRunTable, readRunTable, runSelector } from './search/searchRuns';

export { STATS_EVENTS } from './store/chunks/runStats';
export type { RunStatsRow, RunStatsDelta } from './store/chunks/runStats';
export { DEFAULT_RUNTIME_QUEUE } from './runtime/OmegaRuntime';

export { TaskRunner, headlineScore } from './runtime/TaskRunner';
export type { RuntimeContext, TaskAttempt } from './runtime/TaskRunner';
export { encodeTaskArgument, resolveTaskInput, describeTaskData, arrayShape } from './runtime/taskData';

export {
  encodeWire,
  decodeWire,
  decodeTaskWire,
  checkTaskInputSize,
  checkTaskResultSize,
} from './runtime/taskWire';
export { findTask, taskStatusOf, TASK_EVENTS } from './runtime/taskStatus';
export { TASK_METHODS } from './runtime/types';
export type { TaskData, TaskRequest, TaskOutcome, TaskTracking, TaskRun } from './runtime/types';

export { LocalExecutor } from './runtime/executors/local/LocalExecutor';
export { RedisExecutor } from './runtime/executors/redis/RedisExecutor';
export type { TaskProgress, RedisExecutorOptions } from './runtime/executors/redis/RedisExecutor';
export { startRedisWorker } from './runtime/executors/redis/RedisWorker';
export type { RedisWorkerOptions, RedisWorkerHandle } from './runtime/executors/redis/RedisWorker';
export { processRedisJob } from './runtime/executors/redis/processRedisJob';
export {
  loadBullmq,
  redisConnection,
  connectTimeoutMs,
  checkDatabase,
} from './runtime/executors/redis/redisConnection';
