/** User-Agent Client Hints (Chromium; not in lib.dom yet). */
interface UserAgentData {
  getHighEntropyValues(hints: string[]): Promise<Record<string, unknown>>;
}

let facts: Promise<Record<string, unknown>> | undefined;

/**
 * The machine's facts in a page (it replaces providers/src/system/machineFacts.ts, which asks
 * systeminformation): in Node's shape (`os`, `cpu`) as far as a browser tells them — the OS, its
 * version and the CPU architecture from User-Agent Client Hints (Chromium), the logical cores.
 * Asked once per page and cached.
 */
export function machineFacts(): Promise<Record<string, unknown>> {
  return (facts ??= (async () => {
    const nav = navigator as Navigator & { userAgentData?: UserAgentData };
    // a browser without client hints (Firefox, Safari), or one that refuses them, tells no OS
    const hints = await nav.userAgentData
      ?.getHighEntropyValues(['architecture', 'bitness', 'platformVersion'])
      .catch(() => undefined);
    return {
      os: { platform: hints?.platform, release: hints?.platformVersion, arch: hints?.architecture },
      cpu: { cores: nav.hardwareConcurrency, bitness: hints?.bitness },
    };
  })());
}
