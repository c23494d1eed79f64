export { omega } from './omega';
export type { BrowserOmegaOptions } from './omega';
export { Omega, TrackingError, TrackingInputError, StoreError, NoActiveRunError } from '@omega-track/core';
export { TensorflowCallback, tensorflowCallback, autolog, useTfjs } from '@omega-track/adapters';
