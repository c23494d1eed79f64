import os from 'node:os';

let facts: Promise<Record<string, unknown>> | undefined;

/**
 * The machine's facts for `system` events, from systeminformation: OS, CPU model and cores,
 * memory, GPUs. Gathered once per process (some of it spawns helper programs) and cached.
 */
export function machineFacts(): Promise<Record<string, unknown>> {
  return (facts ??= (async () => {
    const si = await import('systeminformation');
    const [osInfo, cpu, mem, graphics] = await Promise.all([
      si.osInfo(),
      si.cpu(),
      si.mem(),
      si.graphics().catch(() => undefined),
    ]);
    return {
      os: {
        platform: osInfo.platform,
        distro: osInfo.distro,
        release: osInfo.release,
        kernel: osInfo.kernel,
        arch: osInfo.arch,
      },
      cpu: {
        manufacturer: cpu.manufacturer,
        brand: cpu.brand,
        cores: cpu.cores,
        physicalCores: cpu.physicalCores,
        speedGHz: cpu.speed,
      },
      memory: { total: mem.total },
      gpus: (graphics?.controllers ?? []).map((c) => ({ vendor: c.vendor, model: c.model, vram: c.vram })),
    };
  })().catch(() => {
    // systeminformation failed (an unusual platform): Node's own view of the machine will do
    facts = undefined;
    return {
      os: { platform: os.platform(), release: os.release(), arch: os.arch() },
      cpu: { brand: os.cpus()[0]?.model, cores: os.cpus().length },
      memory: { total: os.totalmem() },
    };
  }));
}
