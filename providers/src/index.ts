/** @omega-track/providers: the built-in tracking providers and their registration. */
export { OmegaSimpleTracker } from './default';
export { NoTrackTracker } from './notrack';
export { registerBuiltinProviders } from './registerBuiltinProviders';
