/**
 * bench/transferTensorboard: TensorBoard import of 1,000,000 scalars (10 tags x 100,000 steps in
 * one run, written as Keras' TensorBoard callback writes them: one event per value, a rank-0
 * DT_FLOAT tensor of the 'scalars' plugin) into a fresh SQLite store, against, in the same run:
 * reading the records alone (framing, CRCs, protobuf), the source alone (records to metric
 * events, no store), and a raw logMetric loop of the same 1,000,000 points into a fresh store.
 * Each is measured in a fresh process: time, rate, peak RSS (VmHWM).
 *
 *   npm run build && node bench/dist/transferTensorboard.js [--steps N] [--tags N]
 *   (KEEP_BENCH_DIR=1 keeps the log directory and stores it made, and prints where)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Store } from 'omega-track';
import { omega, openStore } from 'omega-track';
import { TfRecordReader, decodeEvent, maskedCrc32c, tensorboardSource } from 'omega-track/internal';

type TransferSource = ReturnType<typeof tensorboardSource>;
type TransferLog = Parameters<TransferSource['experiments']>[0];
interface TransferSummary {
  runs: number;
  failed: number;
  events: number;
  skipped: Array<{ what: string; why: string }>;
}

/** The writer the import command uses (cli/src/transfer/transferRuns), from the built package. */
async function loadTransferRuns(): Promise<
  (source: TransferSource, opts: { target: Store; log: TransferLog }) => Promise<TransferSummary>
> {
  const file = path.join(path.dirname(require.resolve('omega-track')), 'transfer', 'transferRuns.js');
  return ((await import(file)) as { transferRuns: never }).transferRuns;
}

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string =>
  args.includes(name) ? args[args.indexOf(name) + 1] : fallback;
const STEPS = Number(arg('--steps', '100000'));
const TAGS = Number(arg('--tags', '10'));
const T0 = 1_700_000_000;

// ---- a streamed event-file writer (TFRecord framing around Event protobufs) ----

function varint(v: number, out: number[]): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function delimited(field: number, body: number[], out: number[]): void {
  varint((field << 3) | 2, out);
  varint(body.length, out);
  for (const b of body) out.push(b);
}

const scratch = Buffer.alloc(8);

/** The framing around `data` (an Event protobuf), written at `out[at]`; returns the record's length. */
function frame(data: Buffer, out: Buffer, at: number): number {
  out.writeUInt32LE(data.length, at);
  out.writeUInt32LE(0, at + 4);
  out.writeUInt32LE(maskedCrc32c(out, at, at + 8), at + 8);
  data.copy(out, at + 12);
  out.writeUInt32LE(maskedCrc32c(data), at + 12 + data.length);
  return 16 + data.length;
}

/**
 * The Summary of one tag's value around its 4 float bytes: Summary { value { tag, tensor {
 * dtype DT_FLOAT, tensor_shape {} (rank 0), tensor_content <4 bytes> }, metadata? } }.
 */
function summaryTemplate(tag: string, withPlugin: boolean): { before: Buffer; after: Buffer } {
  const tensor: number[] = [0x08, 1, 0x12, 0, 0x22, 4, 0, 0, 0, 0];
  const v: number[] = [];
  delimited(1, [...Buffer.from(tag)], v);
  delimited(8, tensor, v);
  if (withPlugin) {
    const pluginData: number[] = [];
    delimited(1, [...Buffer.from('scalars')], pluginData);
    const meta: number[] = [];
    delimited(1, pluginData, meta);
    delimited(9, meta, v);
  }
  const summary: number[] = [];
  delimited(1, v, summary);
  const bytes = Buffer.from(summary);
  // the float's 4 bytes are the last 4 of the tensor field: find them after the tag
  const at = bytes.indexOf(Buffer.from([0x22, 4, 0, 0, 0, 0])) + 2;
  return { before: bytes.subarray(0, at), after: bytes.subarray(at + 4) };
}

function writeLogDir(dir: string): { file: string; bytes: number } {
  const run = path.join(dir, 'train');
  fs.mkdirSync(run, { recursive: true });
  const file = path.join(run, `events.out.tfevents.${T0}.benchhost.1234.0.v2`);
  const fd = fs.openSync(file, 'w');
  const out = Buffer.alloc(2 << 20);
  let used = 0;
  let bytes = 0;
  const flush = (): void => {
    fs.writeSync(fd, out, 0, used);
    bytes += used;
    used = 0;
  };
  const header: number[] = [0x09];
  scratch.writeDoubleLE(T0, 0);
  header.push(...scratch);
  delimited(3, [...Buffer.from('brain.Event:2')], header);
  used += frame(Buffer.from(header), out, used);
  const event = Buffer.alloc(256);
  for (let step = 0; step < STEPS; step++) {
    for (let t = 0; t < TAGS; t++) {
      // Keras writes the plugin's metadata with a tag's first value only
      const { before, after } = step < 2 ? summaryTemplate(`epoch_metric_${t}`, step === 0) : templates[t];
      let n = 0;
      event[n++] = 0x09;
      n = event.writeDoubleLE(T0 + step * 0.001, n);
      event[n++] = 0x10;
      const stepBytes: number[] = [];
      varint(step, stepBytes);
      for (const b of stepBytes) event[n++] = b;
      event[n++] = 0x2a;
      event[n++] = before.length + 4 + after.length; // < 128: one varint byte
      n += before.copy(event, n);
      n = event.writeFloatLE(Math.sin(step * 0.001 + t), n);
      n += after.copy(event, n);
      used += frame(event.subarray(0, n), out, used);
    }
    if (used > 1 << 20) flush();
  }
  flush();
  fs.closeSync(fd);
  return { file, bytes };
}

const templates = Array.from({ length: TAGS }, (_, t) => summaryTemplate(`epoch_metric_${t}`, false));

// ---- the phases, each run in a fresh process ----

interface Figures {
  ms: number;
  peakMb: number;
  count: number;
}

function peakMb(): number {
  // VmHWM is this process's own peak; maxRSS would include the parent's (inherited across fork)
  const hwm = /VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
  return (hwm ? Number(hwm) : process.resourceUsage().maxRSS) / 1024;
}

const silentLog = {
  skipped: (what: string, why: string) => console.error(`skipped ${what}: ${why}`),
  note: () => {},
};

async function phase(name: string, dir: string, file: string, store: string): Promise<Figures> {
  const t0 = performance.now();
  let t1: number | undefined; // the end, when checks come after it
  let peak: number | undefined; // the peak at the end, when checks come after it
  let count = 0;
  if (name === 'idle') {
    // the reference: a process that has loaded omega-track and done nothing
  } else if (name === 'parse') {
    for await (const chunk of new TfRecordReader(file).chunks())
      for (let i = 0; i < chunk.length; i++)
        count += decodeEvent(chunk.bytes, chunk.starts[i], chunk.ends[i]).values?.length ?? 0;
  } else if (name === 'source') {
    for await (const exp of tensorboardSource(dir).experiments(silentLog))
      for await (const run of exp.runs())
        for await (const batch of run.events()) count += batch.filter((e) => e.event === 'metric').length;
  } else if (name === 'import') {
    const transferRuns = await loadTransferRuns();
    const target = openStore(`sqlite:${store}`);
    const summary = await transferRuns(tensorboardSource(dir), { target, log: silentLog });
    await target.close();
    t1 = performance.now();
    peak = peakMb();
    if (summary.runs !== 1 || summary.failed !== 0) throw new Error(`import: ${JSON.stringify(summary)}`);
    // read back what was stored: the metrics alone
    const om = omega({ store: `sqlite:${store}` });
    const runs = await om.runtime.experiment(path.basename(dir)).runs({ run: 'all' });
    count = Object.values(runs[0].metrics ?? {}).reduce((n, m) => n + m.count, 0);
    await om.close();
  } else if (name === 'logMetric') {
    const om = omega({ store: `sqlite:${store}` });
    const exp = om.runtime.experiment('raw');
    await exp.start();
    for (let step = 0; step < STEPS; step++) {
      for (let t = 0; t < TAGS; t++)
        exp.logMetric(`epoch_metric_${t}`, Math.fround(Math.sin(step * 0.001 + t)), step);
      count += TAGS;
      // yield now and then, as a training loop does, so batches are written as they fill
      if (step % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
    await exp.stop();
    await om.close();
  } else throw new Error(`unknown phase ${name}`);
  return { ms: (t1 ?? performance.now()) - t0, peakMb: peak ?? peakMb(), count };
}

function inChild(name: string, dir: string, file: string, store: string): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--phase', name, dir, file, store, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${name}: exit ${code}`)),
    );
  });
}

const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;

async function main(): Promise<void> {
  if (args[0] === '--phase') {
    const [, name, dir, file, store] = args;
    process.stdout.write(JSON.stringify(await phase(name, dir, file, store)));
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-bench-tb-'));
  try {
    const points = STEPS * TAGS;
    const t0 = performance.now();
    const { file, bytes } = writeLogDir(tmp);
    console.log(
      `-- TensorBoard import: ${points.toLocaleString('en-US')} scalars (${TAGS} tags x ${STEPS.toLocaleString('en-US')} steps, one run, v2 tensor scalars) --`,
    );
    console.log(
      `event file: ${(bytes / 1e6).toFixed(1)} MB, written in ${(performance.now() - t0).toFixed(0)} ms`,
    );
    const rows: Array<[string, Figures]> = [];
    const idle = await inChild('idle', tmp, file, '');
    for (const name of ['import', 'parse', 'source', 'logMetric']) {
      const f = await inChild(name, tmp, file, path.join(tmp, `${name}.db`));
      if (f.count !== points) throw new Error(`${name} counted ${f.count} of ${points} scalars`);
      rows.push([name, f]);
    }
    console.log(`(a process that only loads omega-track: peak RSS ${idle.peakMb.toFixed(0)} MB)`);
    const label: Record<string, string> = {
      import: 'import: transferRuns(tensorboardSource) into a fresh sqlite store',
      parse: 'records alone (read, CRC, decode)',
      source: 'tensorboardSource alone (no store)',
      logMetric: 'baseline: raw logMetric loop into a fresh sqlite store',
    };
    for (const [name, f] of rows)
      console.log(
        `${label[name].padEnd(56)} ${f.ms.toFixed(0).padStart(6)} ms  ${rate(points, f.ms).padStart(12)}  peak RSS ${f.peakMb.toFixed(0)} MB`,
      );
  } finally {
    if (!process.env.KEEP_BENCH_DIR) fs.rmSync(tmp, { recursive: true, force: true });
    else console.log(tmp);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
