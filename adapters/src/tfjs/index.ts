export { TensorflowCallback, tensorflowCallback } from './TensorflowCallback';
export type { TensorflowCallbackOptions, TrackingTarget } from './TensorflowCallback';
export { autolog } from './autolog';
export { tfjsModelBackend, isLayersModel } from './TfjsModelBackend';
export { loadTfjs } from './loadTfjs';
export { useTfjs } from './useTfjs';
export type { Tfjs } from './loadTfjs';
export { TfjsLayersBackend } from './TfjsLayersBackend';
export type { TrainingLogs, TfjsModelLike, TfjsModule } from './tfjsTypes';
