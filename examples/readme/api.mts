import { omega } from 'omega-track';

const om = omega(); // OMEGA_STORE, else sqlite:.omega/omega.db

const exp = om.runtime.experiment('myexp'); // provider 'default'
await exp.run(async (exp) => {
  // a new run: start … stop (FAILED with the error if fn throws)
  exp.logParam('lr', 0.01);
  for (let epoch = 0; epoch < 10; epoch++) exp.logMetric('loss', 1 / (epoch + 1), epoch);
  exp.logArtifact({ weights: [1, 2] }, 'model');
});

const rows = await om.runtime.experiment('myexp').data({ run: -1, event: 'metric' });
const stats = await om.runtime.experiment('myexp').summary(); // count, mean, std, quartiles, …
console.log(`${rows.length} metric rows; loss mean ${stats[0].mean.toFixed(3)}`);
await om.close();
