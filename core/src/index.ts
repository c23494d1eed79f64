/**
 * @omega-track/core: the tracking contract — the `Omega` facade, the `TrackingProvider` base class
 * a provider extends, the registry, the experiment handle, the errors, the event and run types,
 * and the store, object and model-backend interfaces a plugin implements. Providers live in
 * @omega-track/providers; building blocks shared between the packages are in
 * `@omega-track/core/internal` (no stable API).
 */
export { Omega } from './Omega';
export type { OmegaOptions, Experiment } from './Omega';

export { TrackingError } from './errors/TrackingError';
export { TrackingInputError } from './errors/TrackingInputError';
export { UnknownProviderError } from './errors/UnknownProviderError';
export { ProviderPackageNotInstalledError } from './errors/ProviderPackageNotInstalledError';
export { NoActiveRunError } from './errors/NoActiveRunError';
export { StoreError } from './errors/StoreError';
export type { StoreErrorCode } from './errors/StoreError';
export { TaskError } from './errors/TaskError';
export type { TaskErrorDetails } from './errors/TaskError';
export { RuntimeUnavailableError } from './errors/RuntimeUnavailableError';
export { TaskLostError } from './errors/TaskLostError';
export type { LostTaskStatus } from './errors/TaskLostError';
export { TaskResultTooLargeError } from './errors/TaskResultTooLargeError';
export { SweepStopped } from './errors/SweepStopped';
export { FilterSyntaxError } from './filter/runFilter';
export { LIKE_PATTERN_MAX } from './filter/likeMatcher';
export type {
  RunField,
  FilterOperator,
  FilterLiteral,
  FilterComparison,
  RunFilter,
  RunOrderKey,
} from './filter/runFilter';
export { setDiagWriter, defaultErrorHandler } from './diag/diag';
export type { ErrorHandler, DiagWriter } from './diag/diag';

export type {
  ArtifactFormat,
  ArtifactValue,
  EventColumnBatch,
  EventOptions,
  EventQuery,
  EventValue,
  MetricAggregate,
  MetricSummary,
  PendingEvent,
  ResolvedQuery,
  RunInfo,
  RunQuery,
  RunSelector,
  RunStatus,
  TimeSpec,
  TrackingEvent,
} from './events/types';
export {
  MAX_NAME_LENGTH,
  MAX_VALUE_DEPTH,
  MAX_TAG_VALUE_LENGTH,
  MAX_PARAM_VALUE_LENGTH,
  MAX_EVENT_VALUE_LENGTH,
  MAX_TAGS_PER_RUN,
  RESERVED_EVENT_NAMES,
} from './events/validation';

export { TrackingProvider, MAX_NOTE_LENGTH } from './providers/TrackingProvider';
export type {
  RunMetadata,
  StartOptions,
  StopOptions,
  FlushOptions,
  FlushResult,
  IterateOptions,
} from './providers/TrackingProvider';
export type { ProviderContext } from './providers/ProviderContext';
export type { ExitFlushable } from './process/exitFlush';
export type { ArtifactStores, EncodedArtifact, ArtifactContent } from './artifacts/ArtifactCodec';
export type { ArtifactSource } from './artifacts/artifactSources';
export { ProviderRegistry } from './registry/ProviderRegistry';
export type { ProviderClass, ProviderTypes } from './registry/ProviderRegistry';
export { OmegaTrackingProxy } from './proxy/OmegaTrackingProxy';
export type { ProxyOptions, RunOptions } from './proxy/OmegaTrackingProxy';
export { activeExperiment, withActiveExperiment } from './proxy/activeExperiment';
export type {
  SweepSpec,
  SweepSpace,
  SweepResult,
  SweepTrialResult,
  SweepOptions,
  SweepRange,
  SweepChoice,
  SweepDimension,
  SweepValue,
  SweepParams,
  SweepEarlyStop,
} from './sweep/types';
export { ExperimentBackend } from './experiments/ExperimentBackend';
export type { ExperimentConfig, ExperimentOptions } from './experiments/ExperimentBackend';
export { OmegaRuns } from './search/OmegaRuns';
export type { RunsSearchOptions } from './search/OmegaRuns';
export type { RunSearch, ParsedRunSearch } from './search/searchRuns';

export type { Store, EventLog, MetadataEntry, Bucket, RunLiveness, WriteId } from './store/Store';
export { openStore, DEFAULT_STORE_URL } from './store/openStore';
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
export { Metadata } from './objects/Metadata';

export { OmegaRuntime } from './runtime/OmegaRuntime';
export type { RuntimeOptions } from './runtime/OmegaRuntime';
export { OmegaModelProxy } from './runtime/OmegaModelProxy';
export type { ModelSweepOptions, GridsearchOptions } from './runtime/OmegaModelProxy';
export { ModelBackend } from './runtime/ModelBackend';
export type {
  ModelBackendClass,
  ModelBackendContext,
  FitResult,
  ScoreResult,
  TaskTrackingHandle,
} from './runtime/ModelBackend';
export { ModelBackendRegistry } from './runtime/ModelBackendRegistry';
export type { TaskInput, TaskArgument, TensorLike } from './runtime/taskData';
export type { TaskMethod, TypedArray } from './runtime/types';
export type { TaskExecutor } from './runtime/executors/TaskExecutor';
export { MAX_TASK_BYTES } from './runtime/taskWire';
export type { TaskStatus, TaskState } from './runtime/taskStatus';
