export { NoTrackTracker } from './NoTrackTracker';
