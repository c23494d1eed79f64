import path from 'node:path';
import { TrackingInputError } from '@omega-track/core';
import { decodeValue, encodeValue } from '@omega-track/core/internal';
import type { MlflowKeyValue, MlflowMetric, MlflowMetricValue } from './MlflowTypes';
import { MLFLOW_LIMITS } from './MlflowTypes';

/**
 * How omega-track's events map onto MLflow: key rules, value encodings, batch chunking, and the
 * names of profiler samples as MLflow system metrics.
 */

const KEY_CHARS = /^[/\w.\- :]*$/;

/** Throws TrackingInputError unless MLflow accepts `key` as a metric, param or tag key. */
export function validateMlflowKey(key: string, what: string): void {
  if (key.length > MLFLOW_LIMITS.keyLength)
    throw new TrackingInputError(
      `${what} '${key.slice(0, 40)}…' is ${key.length} characters long; at most 250 are allowed (MLflow's limit)`,
    );
  if (!KEY_CHARS.test(key))
    throw new TrackingInputError(
      `${what} '${key}' has characters MLflow rejects: it allows letters, digits, _ - . space : and /`,
    );
  if (
    key === '.' ||
    key.startsWith('..') ||
    key.startsWith('/') ||
    path.posix.normalize(key).replace(/\/$/, '') !== key ||
    key.endsWith('/')
  )
    throw new TrackingInputError(`${what} '${key}' is not a normalized relative name, which MLflow requires`);
}

/** A number as MLflow takes it: non-finite values as the strings MLflow understands. */
export function encodeMetricValue(value: number): MlflowMetricValue {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

/** A value read back from MLflow. Its SQL store clamps ±Infinity to ±Number.MAX_VALUE: undone here. */
export function decodeMetricValue(value: unknown): number {
  if (typeof value === 'string') return Number(value);
  const n = value as number;
  if (n >= Number.MAX_VALUE) return Infinity;
  if (n <= -Number.MAX_VALUE) return -Infinity;
  return n;
}

/** A param value as the string MLflow stores: strings as they are, anything else as JSON. */
export function paramText(value: unknown): string {
  const text = typeof value === 'string' ? value : encodeValue(value);
  return text.length > MLFLOW_LIMITS.paramValueLength ? text.slice(0, MLFLOW_LIMITS.paramValueLength) : text;
}

/** A tag value as the string MLflow stores: strings as they are, anything else as JSON (at most 8000 characters). */
export function tagText(value: unknown): string {
  const text = typeof value === 'string' ? value : encodeValue(value);
  return text.length > MLFLOW_LIMITS.tagValueLength ? text.slice(0, MLFLOW_LIMITS.tagValueLength) : text;
}

/** MLflow's tags for a run's name and note (what its UI shows as the run name and description). */
export const RUN_NAME_TAG = 'mlflow.runName';
export const RUN_NOTE_TAG = 'mlflow.note.content';
export const PARENT_RUN_TAG = 'mlflow.parentRunId';

/** The tag `export --to mlflow` sets on a run last, once everything of it has been sent. */
export const PUSHED_TAG = 'omega.pushed';

/** The tags omega-track keeps its own bookkeeping in: the run number, its unique id, node, error, push state. */
export const OMEGA_TAGS: ReadonlySet<string> = new Set([
  'omega.run',
  'omega.run_uid',
  'omega.node',
  'omega.error',
  PUSHED_TAG,
]);

/** The MLflow tag a `name`, `tag` or `note` event sets. */
export function metadataTagKey(event: 'name' | 'tag' | 'note', key: string): string {
  return event === 'name' ? RUN_NAME_TAG : event === 'note' ? RUN_NOTE_TAG : key;
}

/**
 * A param or tag value read back from MLflow, which keeps text only: what omega-track sent as
 * JSON (a number, a boolean, a list…) is that value again when the text is exactly its JSON,
 * anything else stays text. A text that looks like JSON (`'3'`) comes back as the value (3).
 */
export function valueFromText(text: string): unknown {
  if (!/^[-\d[{tfn"]/.test(text)) return text;
  try {
    const value = decodeValue(text);
    return typeof value !== 'string' && encodeValue(value) === text ? value : text;
  } catch {
    return text;
  }
}

/** One log-batch request's worth of entities. */
export interface BatchChunk {
  metrics: MlflowMetric[];
  params: MlflowKeyValue[];
  tags: MlflowKeyValue[];
}

/**
 * Splits metrics, params and tags into log-batch requests within MLflow's limits: params and
 * tags in requests of their own (at most 100 each), metrics in requests of 1000. Unlike MLflow's
 * Python client, params never share a request with metrics: a param the server refuses (changed
 * by another process that joined the run) then costs that request only, never metric points.
 */
export function chunkBatch(
  metrics: MlflowMetric[],
  params: MlflowKeyValue[],
  tags: MlflowKeyValue[],
): BatchChunk[] {
  const chunks: BatchChunk[] = [];
  for (
    let p = 0, t = 0;
    p < params.length || t < tags.length;
    p += MLFLOW_LIMITS.paramsPerBatch, t += MLFLOW_LIMITS.tagsPerBatch
  )
    chunks.push({
      metrics: [],
      params: params.slice(p, p + MLFLOW_LIMITS.paramsPerBatch),
      tags: tags.slice(t, t + MLFLOW_LIMITS.tagsPerBatch),
    });
  for (let m = 0; m < metrics.length; m += MLFLOW_LIMITS.metricsPerBatch)
    chunks.push({ metrics: metrics.slice(m, m + MLFLOW_LIMITS.metricsPerBatch), params: [], tags: [] });
  return chunks;
}

/** Profiler keys MLflow has a system metric for, with the factor from our unit to MLflow's. */
const SYSTEM_METRICS: Record<string, { name: (gpu?: number) => string; factor: number }> = {
  cpu_load: { name: () => 'system/cpu_utilization_percentage', factor: 1 },
  memory_used: { name: () => 'system/system_memory_usage_megabytes', factor: 1e-6 },
  memory_load: { name: () => 'system/system_memory_usage_percentage', factor: 1 },
  disk_use: { name: () => 'system/disk_usage_percentage', factor: 1 },
  gpu_util: { name: (gpu) => `system/gpu_${gpu ?? 0}_utilization_percentage`, factor: 1 },
  gpu_mem_used: { name: (gpu) => `system/gpu_${gpu ?? 0}_memory_usage_megabytes`, factor: 1e-6 },
};

/** The MLflow metric name and value of a profiler sample (MLflow's own names where it has them). */
export function profileToSystemMetric(
  key: string,
  value: number,
  gpu: number | undefined,
): { name: string; value: number } {
  const known = SYSTEM_METRICS[key];
  if (known) return { name: known.name(gpu), value: value * known.factor };
  return {
    name: gpu === undefined ? `system/${key}` : `system/gpu_${gpu}_${key.replace(/^gpu_/, '')}`,
    value,
  };
}

/** The profiler key (and GPU index) of an MLflow system metric written by profileToSystemMetric. */
export function systemMetricToProfile(
  name: string,
  value: number,
): { key: string; value: number; gpu?: number } | undefined {
  if (!name.startsWith('system/')) return undefined;
  for (const [key, m] of Object.entries(SYSTEM_METRICS)) {
    const gpuMatch = /^system\/gpu_(\d+)_/.exec(name);
    const gpu = gpuMatch ? Number(gpuMatch[1]) : undefined;
    if (m.name(gpu) === name) return { key, value: value / m.factor, ...(gpu !== undefined ? { gpu } : {}) };
  }
  const gpuOther = /^system\/gpu_(\d+)_(.+)$/.exec(name);
  if (gpuOther) return { key: `gpu_${gpuOther[2]}`, value, gpu: Number(gpuOther[1]) };
  return { key: name.slice('system/'.length), value };
}

/**
 * The artifact file a JSON artifact (format `type` or `metadata`) is also uploaded as, as
 * MLflow's `log_dict` does: `<name>.json` (a name that ends in `.json` as it is), its `/`
 * parts as folders. Undefined for a name no file path can hold (`.` or `..` parts, control
 * characters): such an artifact stays in the events file only.
 */
export function jsonArtifactFile(name: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return undefined;
  const parts = name.split('/').filter((p) => p.length > 0);
  if (parts.length === 0 || parts.some((p) => p === '.' || p === '..')) return undefined;
  const file = parts.join('/');
  return file.endsWith('.json') ? file : `${file}.json`;
}

/** The content of a JSON artifact's file: indented JSON, as `log_dict` writes it. */
export function jsonArtifactText(data: unknown): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}
