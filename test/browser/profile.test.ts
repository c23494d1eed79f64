/**
 * The system profile of a page (`omega-track/browser` in real Chromium against a real
 * `omega-track server`): `logSystem()` records what the browser tells of the machine and the
 * page's tfjs, and the `profiling` provider samples the page's JS heap and tfjs's memory.
 */
import { createToken, suiteRig } from './pageHarness';

jest.setTimeout(180_000);

const rig = suiteRig();

test('a page logs its system profile (cores, device memory, tfjs backend and memory) and a profiled run samples tfjs memory and the JS heap', async () => {
  const token = createToken(rig.store, 'profile-page', 'write', ['--experiments', 'demo/*']);
  await rig.open('/profile.html');
  const page = await rig.page.evaluate(
    async ({ url, token }) => {
      const g = globalThis as any;
      const tf = g.tf;
      const om = g.ot.omega({ store: url, token, tf });
      // settings go with the experiment's options: a server's configuration is read asynchronously
      const exp = om.runtime.experiment('demo/profiled', {
        provider: 'profiling',
        profiler: { interval: 0.05 },
      });
      const kept: any[] = [];
      const run = await exp.run(async (e: any) => {
        // tfjs work: tensors kept alive, so its memory grows from sample to sample
        for (let i = 0; i < 8; i++) {
          const a = tf.randomNormal([64, 64]);
          kept.push(a, tf.matMul(a, a));
          await kept[kept.length - 1].data();
          await new Promise((resolve) => setTimeout(resolve, 40));
        }
        e.logSystem();
        return e.currentRun;
      });
      await om.close();
      const nav = g.navigator;
      return {
        run,
        backend: tf.getBackend(),
        tensors: tf.memory().numTensors,
        cores: nav.hardwareConcurrency,
        deviceMemory: nav.deviceMemory,
        version: tf.version.tfjs,
      };
    },
    { url: rig.server.url, token },
  );

  const [system] = await rig.serverData('demo/profiled', { run: page.run, event: 'system' });
  const value = system.value;
  expect(value.platform.system).toBe('browser');
  expect(value.navigator.hardwareConcurrency).toBe(page.cores);
  expect(value.navigator.hardwareConcurrency).toBeGreaterThanOrEqual(1);
  expect(value.navigator.deviceMemory).toBe(page.deviceMemory);
  expect(value.navigator.deviceMemory).toBeGreaterThan(0);
  expect(value.machine.cpu.cores).toBe(page.cores);
  expect(value.tfjs.version).toBe(page.version);
  expect(['webgl', 'webgpu', 'wasm', 'cpu']).toContain(value.tfjs.backend);
  expect(value.tfjs.backend).toBe(page.backend);
  // 16 tensors kept, plus tfjs's own
  expect(value.tfjs.memory.numTensors).toBeGreaterThanOrEqual(16);
  expect(value.tfjs.memory.numBytes).toBeGreaterThanOrEqual(16 * 64 * 64 * 4);

  const profile = await rig.serverData('demo/profiled', { run: page.run, event: 'profile' });
  const keys = new Set(profile.map((r) => r.key));
  for (const key of [
    'profile_dt',
    'cpu_count',
    'js_heap_used',
    'js_heap_total',
    'js_heap_limit',
    'tfjs_bytes',
    'tfjs_tensors',
    'tfjs_data_buffers',
  ])
    expect(keys).toContain(key);
  const tensors = profile.filter((r) => r.key === 'tfjs_tensors');
  // a sample as the run starts, some on schedule, one as it stops; steps count from 0
  expect(tensors.length).toBeGreaterThanOrEqual(3);
  expect(tensors.map((r) => r.step)).toEqual(tensors.map((_, i) => i));
  expect(Math.max(...tensors.map((r) => r.value))).toBeGreaterThanOrEqual(16);
  expect(tensors[tensors.length - 1].value).toBeGreaterThan(tensors[0].value);
  for (const r of profile.filter((r) => r.key === 'js_heap_used')) expect(r.value).toBeGreaterThan(0);
  for (const r of profile.filter((r) => r.key === 'cpu_count')) expect(r.value).toBe(page.cores);
});
