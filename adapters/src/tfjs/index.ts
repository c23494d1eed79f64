export { TensorflowCallback, tensorflowCallback } from './TensorflowCallback';
export type { TensorflowCallbackOptions, TrackingTarget } from './TensorflowCallback';
export { autolog } from './autolog';
export { tfjsModelBackend, isLayersModel } from './TfjsModelBackend';
export { loadTfjs, useTfjs } from './loadTfjs';
export type { Tfjs } from './loadTfjs';
export { TfjsLayersBackend } from './TfjsLayersBackend';
