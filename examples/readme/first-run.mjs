// first-run.mjs: node first-run.mjs (the store is .omega/omega.db in the working directory)
import { omega } from 'omega-track';

const om = omega(); // OMEGA_STORE, else sqlite:.omega/omega.db
const exp = om.runtime.experiment('first');

await exp.run(async (exp) => {
  exp.logParam('lr', 0.01);
  for (let epoch = 0; epoch < 10; epoch++) exp.logMetric('loss', 1 / (epoch + 1), epoch);
  exp.logArtifact({ weights: [1, 2] }, 'model');
});

const [run] = await exp.runs({ orderBy: ['attributes.run DESC'], limit: 1 });
console.log(`run ${run.run}: ${run.status}, last loss ${run.metrics.loss.last}`);
console.log(await exp.summary({ run: run.run }));
console.log(await exp.restoreArtifact('model', { run: run.run }));
await om.close();
