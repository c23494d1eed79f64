import { registerSystemProbe } from '@omega-track/core/internal';
import type { Tfjs } from './tfjsChoice';

/** What `tf.memory()` gives: the engine's counts, and the backend's own (GPU bytes on webgl, webgpu). */
interface TfjsMemory {
  numBytes: number;
  numTensors: number;
  numDataBuffers: number;
  numBytesInGPU?: number;
}

/**
 * `tf.memory()` of the backend in use; undefined before tfjs has a backend (asking then would
 * make tfjs pick and set one up — a WebGL context — inside a tracking call).
 */
function memoryOf(tf: Tfjs): TfjsMemory | undefined {
  try {
    return tf.getBackend() ? tf.memory() : undefined;
  } catch {
    // a backend still being set up (tf.setBackend('webgpu') not awaited yet) tells nothing
    return undefined;
  }
}

/**
 * Makes `tf` the `tfjs` system probe (see core's systemProbes): `logSystem()` records its
 * version, backend (webgl, webgpu, wasm, cpu, tensorflow) and `tf.memory()`, and a page's
 * profiler samples the memory as `tfjs_bytes`, `tfjs_tensors`, `tfjs_data_buffers` and, on a
 * GPU backend, `tfjs_gpu_bytes`.
 */
export function registerTfjsProbe(tf: Tfjs): void {
  registerSystemProbe('tfjs', {
    facts: () => ({
      version: (tf.version as { tfjs?: string } | undefined)?.tfjs ?? tf.version_core,
      backend: tf.getBackend() ?? null,
      memory: memoryOf(tf) ?? null,
    }),
    sample: () => {
      const m = memoryOf(tf);
      if (!m) return {};
      const out: Record<string, number> = {
        tfjs_bytes: m.numBytes,
        tfjs_tensors: m.numTensors,
        tfjs_data_buffers: m.numDataBuffers,
      };
      if (typeof m.numBytesInGPU === 'number') out.tfjs_gpu_bytes = m.numBytesInGPU;
      return out;
    },
  });
}
