import { TrackingInputError } from '@omega-track/core';

/** The metric groups the profiler can sample. */
export const METRIC_GROUPS = ['cpu', 'memory', 'disk', 'network', 'gpu', 'process'] as const;

/** One metric group. */
export type MetricGroup = (typeof METRIC_GROUPS)[number];

/**
 * The keys each group logs, with their units (the README has this table too).
 * Rates are per second over the time since the previous sample. In a page (`omega-track/browser`)
 * the profiler sees only `cpu_count` and the keys marked "page": its JS heap and tfjs's memory.
 */
export const METRIC_KEYS: Record<MetricGroup, Record<string, string>> = {
  cpu: {
    cpu_load: '% of all cores busy',
    cpu_load_user: '% of all cores in user code',
    cpu_load_system: '% of all cores in the kernel',
    cpu_count: 'logical cores',
    cpu_freq: 'GHz, average over cores',
    cpu_avg: '1-minute load average',
  },
  memory: { memory_used: 'bytes (total minus available)', memory_total: 'bytes', memory_load: '% used' },
  disk: {
    disk_use: '% used, file system of the working directory',
    disk_total: 'bytes, same file system',
    disk_read_rate: 'bytes/s read, all disks',
    disk_write_rate: 'bytes/s written, all disks',
  },
  network: {
    net_rx_rate: 'bytes/s received, all interfaces but loopback',
    net_tx_rate: 'bytes/s sent, same',
  },
  gpu: { gpu_util: '% busy (per device: extra field gpu)', gpu_mem_used: 'bytes', gpu_mem_total: 'bytes' },
  process: {
    process_cpu: '% of one core used by this process (all threads)',
    process_rss: 'bytes resident',
    process_heap_used: 'bytes of V8 heap in use on the main thread',
    js_heap_used: "page: bytes of JS heap in use (performance.memory's usedJSHeapSize; Chromium)",
    js_heap_total: 'page: bytes of JS heap allocated (totalJSHeapSize; Chromium)',
    js_heap_limit: 'page: the JS heap limit in bytes (jsHeapSizeLimit; Chromium)',
    tfjs_bytes: 'page: bytes held by tfjs tensors (tf.memory().numBytes), once tfjs is in use',
    tfjs_tensors: 'page: tfjs tensors alive (numTensors)',
    tfjs_data_buffers: 'page: tfjs data buffers (numDataBuffers)',
    tfjs_gpu_bytes: 'page: bytes of GPU memory tfjs uses (numBytesInGPU; webgl, webgpu)',
  },
};

/** Checks a list of metric groups; throws TrackingInputError naming an unknown one. */
export function validateMetrics(metrics: unknown): MetricGroup[] {
  if (!Array.isArray(metrics) || metrics.length === 0)
    throw new TrackingInputError(`profiler metrics must be a non-empty list of: ${METRIC_GROUPS.join(', ')}`);
  for (const m of metrics)
    if (!METRIC_GROUPS.includes(m as MetricGroup))
      throw new TrackingInputError(
        `unknown profiler metric '${String(m)}'; choose from: ${METRIC_GROUPS.join(', ')}`,
      );
  return [...new Set(metrics as MetricGroup[])];
}

/** Checks a sampling interval in seconds: a positive finite number. */
export function validateInterval(interval: unknown): number {
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0)
    throw new TrackingInputError(
      `profiler interval must be a positive number of seconds, got ${String(interval)}`,
    );
  return interval;
}
