import { omega } from 'omega-track';

const om = omega();
const exp = om.runtime.experiment('train', { provider: 'profiling' });
exp.profiler.interval = 5; // seconds (default 10); settable while it runs
exp.profiler.metrics = ['cpu', 'memory', 'process']; // default: all the machine has
exp.maxBuffer = 6; // samples held before they are written (default 6)
await exp.run(async () => {
  /* training */
  await new Promise((resolve) => setTimeout(resolve, 1500));
});
const profile = await exp.data({ run: -1, event: 'profile', key: 'process_rss' });
console.log(`${profile.length} samples of process_rss`); // one at the start, one at the stop
await om.close();
