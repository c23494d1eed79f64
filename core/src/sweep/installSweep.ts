import { OmegaTrackingProxy } from '../proxy/OmegaTrackingProxy';
import type { SweepOptions } from './types';
import { SweepController } from './SweepController';
import type { TrialFunction } from './SweepController';

/**
 * Puts `sweep` on the experiment handle (see `OmegaTrackingProxy.sweep`). Loaded by the Node
 * runtime (OmegaRuntime), never by the page's bundle: the page keeps the handle without the
 * controller, its samplers and its state, in the bundle's budget.
 */
Object.defineProperty(OmegaTrackingProxy.prototype, 'sweep', {
  value: async function sweep(
    this: OmegaTrackingProxy,
    spec: unknown,
    trial: TrialFunction<OmegaTrackingProxy>,
    opts: SweepOptions = {},
  ) {
    return new SweepController(this, spec, trial, opts).run();
  },
  writable: true,
  configurable: true,
});
