import { omega } from 'omega-track';

const om = omega();
const exp = om.runtime.experiment('team/vision');
const train = async (e: typeof exp, lr: number): Promise<void> => {
  e.logParams({ lr, optimizer: 'adam' });
  e.logMetric('acc', 1 - lr * 2);
};

await exp.run((e) => train(e, 0.01), {
  name: 'baseline',
  tags: { team: 'vision', dataset: 'v2' },
  note: 'first try',
});
await exp.start({ name: 'sweep-3' }); // or later, in the run:
exp.setName('sweep-3b');
exp.setTag('team', 'vision'); // exp.setTags({ … }); the latest value per key wins
exp.setNote('lr too high after epoch 40');
await train(exp, 0.2);
await exp.stop();

const best = await exp.runs({
  filter: "metrics.acc > 0.9 AND params.optimizer = 'adam' AND tags.team = 'vision'",
  orderBy: ['metrics.acc DESC'],
  limit: 10,
});
// each: run, name, status (error of a FAILED run), parent, started, stopped, duration, node,
// userid, tags, note, params (latest per key), metrics: { acc: { last, step, min, max, count } }
const everywhere = await om.runs.search({
  experiments: 'team/*',
  filter: 'metrics.acc < 0.9',
  orderBy: '-start_time',
});
console.log(
  best.map((r) => r.name),
  everywhere.map((r) => r.name),
);
await exp.deleteRun(1, { force: true }); // events and artifact content; number 1 is never reused
await om.close();
