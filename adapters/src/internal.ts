/** @omega-track/adapters/internal: the tfjs model backend and loader the omega-track packages share; no stable API. */
export { tfjsModelBackend, TfjsLayersBackend, isLayersModel, loadTfjs } from './tfjs';
export type { Tfjs } from './tfjs';
export { installSweepStop } from './tfjs/sweepStop';
