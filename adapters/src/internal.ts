/** @omega-track/adapters/internal: the tfjs model backend and loader the omega-track packages share; no stable API. */
export {
  TensorflowCallback,
  tensorflowCallback,
  autolog,
  tfjsModelBackend,
  TfjsLayersBackend,
  isLayersModel,
  loadTfjs,
  useTfjs,
} from './tfjs';
export type {
  TensorflowCallbackOptions,
  TrackingTarget,
  Tfjs,
  TrainingLogs,
  TfjsModelLike,
  TfjsModule,
} from './tfjs';
