import path from 'node:path';
import type { PendingEvent } from '@omega-track/core';
import { TrackingError } from '@omega-track/core';
import { validateKey } from '@omega-track/core/internal';
import { decodeEvent, tensorScalar } from './eventProto';
import { eventFileHost } from './findEventRuns';
import type { TfSummaryValue } from './eventProto';
import { TensorboardFormatError } from './TensorboardFormatError';
import { TfRecordReader } from './tfrecord';
import type { TfRecordCut } from './tfrecord';

/** What reading a run's event files left out, said once per run when it is read. */
export class RunReadStats {
  /** Non-scalar summaries (images, histograms, text, …) by kind: how many, and a few of their tags. */
  readonly nonScalars = new Map<string, { count: number; tags: Set<string>; more: boolean }>();
  /** Tags that cannot be metric keys (empty, too long, NUL), with why. */
  readonly badTags = new Map<string, string>();
  /** Scalars whose step is beyond ±2^53 (no integer of the store holds it exactly). */
  unsafeSteps = 0;
  /** Files that end inside their last record. */
  readonly cuts: Array<{ file: string; cut: TfRecordCut }> = [];

  addNonScalar(kind: string, tag: string): void {
    let entry = this.nonScalars.get(kind);
    if (entry === undefined) this.nonScalars.set(kind, (entry = { count: 0, tags: new Set(), more: false }));
    entry.count++;
    if (entry.tags.size < 5) entry.tags.add(tag);
    else if (!entry.tags.has(tag)) entry.more = true;
  }
}

/**
 * The scalars of one event file as `metric` events, in file order, in batches: `simple_value`
 * (TF 1 `tf.summary.scalar`, tfjs-node's `tf.node.summaryFileWriter`, PyTorch), and `tensor`
 * values of the 'scalars' plugin (TF 2 `tf.summary.scalar`, Keras' TensorBoard callback) or,
 * when the tag names no plugin, of one number (rank 0). A writer puts a tag's plugin only on the
 * tag's first value in a file, so the plugin each tag named is remembered for the file.
 * Everything else is counted in `stats`. `run` of the events is 0: the writer sets it.
 */
export async function* eventFileScalars(
  file: string,
  stats: RunReadStats,
  bufferBytes: number,
): AsyncGenerator<PendingEvent[]> {
  const node = eventFileHost(path.basename(file));
  const reader = new TfRecordReader(file, { bufferBytes });
  const plugins = new Map<string, string>();
  const keys = new Set<string>();
  for await (const chunk of reader.chunks()) {
    const out: PendingEvent[] = [];
    for (let i = 0; i < chunk.length; i++) {
      let event;
      try {
        event = decodeEvent(chunk.bytes, chunk.starts[i], chunk.ends[i]);
      } catch (e) {
        if (!(e instanceof TrackingError)) throw e;
        throw new TensorboardFormatError(
          file,
          chunk.offsets[i],
          `it is not a TensorFlow Event: ${e.message}`,
        );
      }
      if (event.values === undefined) continue;
      const dt = Math.round(event.wallTime * 1000);
      // a Date holds ±8.64e15 ms; a wall time beyond is no time a writer wrote
      if (!(Math.abs(dt) <= 8.64e15))
        throw new TensorboardFormatError(
          file,
          chunk.offsets[i],
          `its wall_time ${event.wallTime} is not a time`,
        );
      for (const value of event.values) {
        const x = scalarOf(value, plugins, stats);
        if (x === undefined) continue;
        if (!isKey(value.tag, keys, stats)) continue;
        if (!Number.isSafeInteger(event.step)) {
          stats.unsafeSteps++;
          continue;
        }
        out.push({
          run: 0,
          event: 'metric',
          key: value.tag,
          value: x,
          step: event.step,
          dt,
          node,
          userid: '',
          extra: undefined,
        });
      }
    }
    if (out.length > 0) yield out;
  }
  if (reader.cut !== undefined) stats.cuts.push({ file, cut: reader.cut });
}

/** The number a summary value holds when it is a scalar; undefined (and counted) when it is not. */
function scalarOf(
  value: TfSummaryValue,
  plugins: Map<string, string>,
  stats: RunReadStats,
): number | undefined {
  let plugin = value.pluginName;
  if (plugin !== undefined && plugin !== '') plugins.set(value.tag, plugin);
  else plugin = plugins.get(value.tag);
  switch (value.kind) {
    case 'simple_value':
      return value.simpleValue;
    case 'tensor': {
      const t = value.tensor!;
      const x =
        plugin === 'scalars' || (plugin === undefined && t.dims.length === 0) ? tensorScalar(t) : undefined;
      if (x === undefined) stats.addNonScalar(plugin ?? 'tensors', value.tag);
      return x;
    }
    case 'none': // metadata alone: nothing to read
      return undefined;
    default:
      stats.addNonScalar(plugin ?? KIND_NAMES[value.kind], value.tag);
      return undefined;
  }
}

const KIND_NAMES: Record<string, string> = {
  image: 'images',
  histo: 'histograms',
  audio: 'audio',
  obsolete_old_style_histogram: 'histograms',
};

/** Whether a tag can be a metric key (checked once per tag and file; a bad one is counted in `stats`). */
function isKey(tag: string, keys: Set<string>, stats: RunReadStats): boolean {
  if (keys.has(tag)) return true;
  if (stats.badTags.has(tag)) return false;
  try {
    validateKey(tag, 'tag');
  } catch (e) {
    stats.badTags.set(tag, (e as Error).message);
    return false;
  }
  keys.add(tag);
  return true;
}
