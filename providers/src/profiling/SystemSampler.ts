import fs from 'node:fs';
import os from 'node:os';
import type { MetricGroup } from './metrics';

/** One sample: metric key → value; GPU figures per device. */
export interface SampleValues {
  values: Record<string, number>;
  gpus: Array<Record<string, number>>;
}

type Reader = () => Promise<Record<string, number>>;

interface CpuTimes {
  total: number;
  idle: number;
  user: number;
  system: number;
}

/**
 * Whether asking systeminformation for GPUs can find any: on Linux only with a GPU driver's
 * device files present. The question itself spawns lspci and friends, which is slow (70 ms
 * here) and pointless on the many machines without a GPU.
 */
function mayHaveGpu(): boolean {
  if (process.platform !== 'linux') return true;
  return ['/dev/nvidia0', '/proc/driver/nvidia', '/dev/kfd', '/dev/dri/renderD128'].some((p) =>
    fs.existsSync(p),
  );
}

/**
 * Reads the system figures for the profiler. On Linux the per-sample counters come straight
 * from /proc (a few small file reads): systeminformation reads several of them by spawning
 * shell pipelines (`cat /proc/diskstats`, `lsblk …`), which costs more CPU per sample than the
 * profiler's whole budget. systeminformation is used where /proc is not (macOS, Windows), for
 * GPUs (it knows nvidia-smi and friends), and for the machine facts of logSystem().
 * Rates are computed from the previous reading, so `prime()` is called once before sampling.
 */
export class SystemSampler {
  private readonly readers: Reader[] = [];
  private gpus = false;
  private prevCpu: CpuTimes | undefined;
  private prevProc: { at: number; usage: NodeJS.CpuUsage } | undefined;
  private prevDisk: { at: number; read: number; written: number } | undefined;
  private prevNet: { at: number; rx: number; tx: number } | undefined;
  private readonly linux = process.platform === 'linux' && fs.existsSync('/proc/stat');
  private diskNames: Set<string> | undefined;

  constructor(
    private readonly groups: readonly MetricGroup[],
    /** The main thread's heap in use (bytes), published through shared memory. */
    private readonly mainHeapUsed: () => number,
  ) {}

  /** Takes the first readings of every rate counter; returns the keys this machine has. */
  async prime(): Promise<void> {
    for (const group of this.groups) {
      if (group === 'cpu') this.readers.push(() => this.cpu());
      if (group === 'memory') this.readers.push(() => this.memory());
      if (group === 'disk') this.readers.push(() => this.disk());
      if (group === 'network') this.readers.push(() => this.network());
      if (group === 'process') this.readers.push(async () => this.processFigures());
      if (group === 'gpu') this.gpus = mayHaveGpu() && (await this.gpuFigures().catch(() => [])).length > 0;
    }
    await this.sample();
  }

  /** Reads every enabled metric; a metric the machine cannot give is left out. */
  async sample(): Promise<SampleValues> {
    const values: Record<string, number> = {};
    for (const read of this.readers) {
      try {
        Object.assign(values, await read());
      } catch {
        // a counter that cannot be read this time is missing from this sample, nothing more
      }
    }
    const gpus = this.gpus ? await this.gpuFigures().catch(() => []) : [];
    for (const [k, v] of Object.entries(values)) if (!Number.isFinite(v)) delete values[k];
    return { values, gpus };
  }

  private async cpu(): Promise<Record<string, number>> {
    const out: Record<string, number> = { cpu_count: os.availableParallelism(), cpu_avg: os.loadavg()[0] };
    let times: CpuTimes;
    if (this.linux) {
      const f = (await fs.promises.readFile('/proc/stat', 'utf8'))
        .split('\n', 1)[0]
        .trim()
        .split(/\s+/)
        .slice(1)
        .map(Number);
      // user nice system idle iowait irq softirq steal
      times = {
        user: f[0] + f[1],
        system: f[2] + f[5] + f[6],
        idle: f[3] + f[4],
        total: f.slice(0, 8).reduce((a, b) => a + b, 0),
      };
      const mhz = (await fs.promises.readFile('/proc/cpuinfo', 'utf8')).match(/^cpu MHz\s*:\s*([\d.]+)/gm);
      if (mhz?.length)
        out.cpu_freq = mhz.reduce((s, line) => s + Number(line.split(':')[1]), 0) / mhz.length / 1000;
    } else {
      times = { user: 0, system: 0, idle: 0, total: 0 };
      for (const c of os.cpus()) {
        times.user += c.times.user + c.times.nice;
        times.system += c.times.sys + c.times.irq;
        times.idle += c.times.idle;
        times.total += c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
      }
      const speeds = os.cpus().map((c) => c.speed);
      if (speeds.some((s) => s > 0)) out.cpu_freq = speeds.reduce((a, b) => a + b, 0) / speeds.length / 1000;
    }
    const prev = this.prevCpu;
    this.prevCpu = times;
    if (prev && times.total > prev.total) {
      const total = times.total - prev.total;
      out.cpu_load = (100 * (total - (times.idle - prev.idle))) / total;
      out.cpu_load_user = (100 * (times.user - prev.user)) / total;
      out.cpu_load_system = (100 * (times.system - prev.system)) / total;
    } else if (prev) {
      // no clock tick passed since the last reading (very short interval): nothing was measured
      out.cpu_load = out.cpu_load_user = out.cpu_load_system = 0;
    }
    return out;
  }

  private async memory(): Promise<Record<string, number>> {
    let total = os.totalmem();
    let available = os.freemem();
    if (this.linux) {
      const text = await fs.promises.readFile('/proc/meminfo', 'utf8');
      const kb = (name: string): number | undefined => {
        const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
        return m ? Number(m[1]) * 1024 : undefined;
      };
      total = kb('MemTotal') ?? total;
      available = kb('MemAvailable') ?? available;
    }
    const used = total - available;
    return { memory_used: used, memory_total: total, memory_load: (100 * used) / total };
  }

  private async disk(): Promise<Record<string, number>> {
    const s = await fs.promises.statfs(process.cwd());
    const used = (s.blocks - s.bfree) * s.bsize;
    const out: Record<string, number> = {
      disk_total: s.blocks * s.bsize,
      disk_use: (100 * used) / (used + s.bavail * s.bsize),
    };
    let read: number;
    let written: number;
    if (this.linux) {
      // whole disks only (partitions would count twice); loop and RAM devices are not disks
      this.diskNames ??= new Set(fs.readdirSync('/sys/block').filter((n) => !/^(loop|ram|zram)/.test(n)));
      read = written = 0;
      for (const line of (await fs.promises.readFile('/proc/diskstats', 'utf8')).split('\n')) {
        const f = line.trim().split(/\s+/);
        if (f.length > 9 && this.diskNames.has(f[2])) {
          read += Number(f[5]) * 512;
          written += Number(f[9]) * 512;
        }
      }
    } else {
      const si = await import('systeminformation');
      const io = await si.fsStats();
      if (!io) return out;
      read = io.rx;
      written = io.wx;
    }
    const now = Date.now();
    const prev = this.prevDisk;
    this.prevDisk = { at: now, read, written };
    if (prev && now > prev.at) {
      out.disk_read_rate = ((read - prev.read) * 1000) / (now - prev.at);
      out.disk_write_rate = ((written - prev.written) * 1000) / (now - prev.at);
    }
    return out;
  }

  private async network(): Promise<Record<string, number>> {
    let rx = 0;
    let tx = 0;
    if (this.linux) {
      for (const line of (await fs.promises.readFile('/proc/net/dev', 'utf8')).split('\n').slice(2)) {
        const [name, rest] = line.split(':');
        if (!rest || name.trim() === 'lo') continue;
        const f = rest.trim().split(/\s+/).map(Number);
        rx += f[0];
        tx += f[8];
      }
    } else {
      const si = await import('systeminformation');
      for (const s of await si.networkStats('*')) {
        if (s.iface === 'lo' || s.iface === 'lo0') continue;
        rx += s.rx_bytes;
        tx += s.tx_bytes;
      }
    }
    const now = Date.now();
    const prev = this.prevNet;
    this.prevNet = { at: now, rx, tx };
    if (!prev || now <= prev.at) return {};
    return {
      net_rx_rate: ((rx - prev.rx) * 1000) / (now - prev.at),
      net_tx_rate: ((tx - prev.tx) * 1000) / (now - prev.at),
    };
  }

  private processFigures(): Record<string, number> {
    const now = Date.now();
    // process.cpuUsage() and rss are process-wide, so a worker thread sees the whole process
    const usage = process.cpuUsage();
    const prev = this.prevProc;
    this.prevProc = { at: now, usage };
    const out: Record<string, number> = {
      process_rss: process.memoryUsage.rss(),
      process_heap_used: this.mainHeapUsed(),
    };
    if (prev && now > prev.at)
      out.process_cpu =
        ((usage.user - prev.usage.user + usage.system - prev.usage.system) / 1000 / (now - prev.at)) * 100;
    return out;
  }

  private async gpuFigures(): Promise<Array<Record<string, number>>> {
    const si = await import('systeminformation');
    const { controllers } = await si.graphics();
    return controllers
      .filter((c) => typeof c.utilizationGpu === 'number')
      .map((c) => {
        const g: Record<string, number> = { gpu_util: c.utilizationGpu as number };
        // systeminformation reports GPU memory in MiB
        if (typeof c.memoryUsed === 'number') g.gpu_mem_used = c.memoryUsed * 1024 * 1024;
        if (typeof c.memoryTotal === 'number') g.gpu_mem_total = c.memoryTotal * 1024 * 1024;
        return g;
      });
  }
}
