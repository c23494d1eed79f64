// MLFLOW_TRACKING_URI=http://127.0.0.1:5000 (credentials: user:password@ in the URI,
// MLFLOW_TRACKING_USERNAME/PASSWORD, or MLFLOW_TRACKING_TOKEN)
import { omega } from 'omega-track';

const om = omega();
const exp = om.runtime.experiment('train', { provider: 'mlflow', profile: true });
await exp.run(async (e) => {
  e.logParam('lr', 0.01);
  e.logMetric('loss', 0.3, 1);
});
const rows = await exp.data({ run: -1 }); // read back from MLflow, the same rows as the default provider
console.log(rows.map((r) => `${r.event}:${r.key}`).join(' '));
await om.close();
