export { OmegaSimpleTracker } from './OmegaSimpleTracker';
