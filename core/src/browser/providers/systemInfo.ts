import { probeFacts } from '../../providers/systemProbes';

/** A page has no package folder to read: no installed packages are known. */
export function installedPackages(): string[] {
  return [];
}

/**
 * The default value of a `system` event in a page (it replaces core/src/providers/systemInfo.ts):
 * what the browser tells of itself and the machine — user agent, language, logical cores
 * (`hardwareConcurrency`), approximate memory (`deviceMemory`: GiB, rounded and capped by the
 * browser; Chromium only) — and the registered probes' facts (`tfjs`: version, backend —
 * webgl, webgpu, wasm, cpu — and `tf.memory()`).
 */
export function systemInfo(): Record<string, unknown> {
  const nav = (typeof navigator === 'object' ? navigator : {}) as Partial<Navigator> & {
    deviceMemory?: number;
  };
  return {
    platform: { system: 'browser', userAgent: nav.userAgent, language: nav.language },
    navigator: { hardwareConcurrency: nav.hardwareConcurrency, deviceMemory: nav.deviceMemory },
    ...probeFacts(),
  };
}
