import type { OmegaTrackingProxy } from '@omega-track/core';
import type { TensorflowCallbackOptions, TrackingTarget } from './TensorflowCallback';
import { TensorflowCallback, callbackArguments, trackedExplicitly } from './TensorflowCallback';
import { loadTfjs } from './loadTfjs';
import type { TrainingLogs } from './tfjsTypes';

interface AutologState {
  enabled: boolean;
  exp?: TrackingTarget;
  opts?: TensorflowCallbackOptions;
}

let state: AutologState = { enabled: false };
let registered = false;

/**
 * The callback tfjs creates for every `fit`/`fitDataset` once autolog is on. tfjs has no way to
 * unregister a callback constructor, so it is registered once and follows `state` instead.
 */
class AutologCallback extends TensorflowCallback {
  private readonly enabled: boolean;

  constructor() {
    super(state.exp, state.opts);
    this.enabled = state.enabled;
  }

  protected override viaAutolog(): boolean {
    return true;
  }

  override async onTrainBegin(logs?: TrainingLogs): Promise<void> {
    // a fit with its own TensorflowCallback is tracked by that one, not twice
    if (this.enabled && !trackedExplicitly(this.model)) await super.onTrainBegin(logs);
  }

  // the other hooks do nothing when onTrainBegin chose not to track (no experiment is set)
}

/**
 * Tracks every later `model.fit`/`model.fitDataset` without a callback argument, through
 * tfjs's callback registry: into `exp`, or into the experiment active in `exp.run(...)` at the
 * time of each fit. Calling it again changes the experiment or options; `autolog.disable()`
 * turns it off.
 */
export function autolog(opts?: TensorflowCallbackOptions): void;
/** Tracks every later `fit` into `exp` (or the experiment active at each fit), with `opts`. */
export function autolog(exp?: TrackingTarget | OmegaTrackingProxy, opts?: TensorflowCallbackOptions): void;
export function autolog(first?: unknown, second?: unknown): void {
  // (exp, opts) or (opts); bad arguments fail here, at the call, not in every later fit
  const { exp, opts } = callbackArguments(first, second, 'autolog');
  new TensorflowCallback(exp, opts);
  state = { enabled: true, exp, opts };
  if (registered) return;
  // verbosity level 0: every fit, whatever its `verbose` setting
  loadTfjs().registerCallbackConstructor(
    0,
    AutologCallback as unknown as Parameters<ReturnType<typeof loadTfjs>['registerCallbackConstructor']>[1],
  );
  registered = true;
}

/** Turns autolog off: later fits are not tracked (unless given a callback). */
autolog.disable = (): void => {
  state = { enabled: false };
};

/** Whether autolog is on. */
autolog.enabled = (): boolean => state.enabled;
