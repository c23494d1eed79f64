/** @omega-track/adapters: framework adapters — the TensorFlow.js training callback and autolog. */
// each from its own file, not the folder's index: the model backend's and loader's declarations
// name tfjs's types, and a TypeScript project without tfjs installed must not be led to them
export { TensorflowCallback, tensorflowCallback } from './tfjs/TensorflowCallback';
export type { TensorflowCallbackOptions, TrackingTarget } from './tfjs/TensorflowCallback';
export { autolog } from './tfjs/autolog';
export { useTfjs } from './tfjs/useTfjs';
export type { TrainingLogs, TfjsModelLike, TfjsModule } from './tfjs/tfjsTypes';
