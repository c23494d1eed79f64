import type { ErrorHandler } from '../diag/diag';
import type { ObjectStore } from '../objects/ObjectStore';
import type { Store } from '../store/Store';

/** What a provider is given when it is created: where to store, and its options. */
export interface ProviderContext {
  store: Store;
  models: ObjectStore;
  datasets: ObjectStore;
  /** The experiment's provider options (stored with its configuration). */
  options: Record<string, unknown>;
  /** Where recording-time failures go; defaults to one diagnostic line each. */
  onError?: ErrorHandler;
  /** Stores provider settings (e.g. profiler interval) with the experiment's configuration. */
  persistSettings?: (settings: Record<string, unknown>) => Promise<void>;
}
