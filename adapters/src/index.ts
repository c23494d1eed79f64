/** @omega-track/adapters: framework adapters — TensorFlow.js training callback and autolog. */
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
export type { TensorflowCallbackOptions, TrackingTarget, Tfjs } from './tfjs';
