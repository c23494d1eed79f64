/**
 * The example page's script: a plain module, no bundler. It imports omega-track's browser client
 * from the team server itself (`<server>/omega-track.browser.js`), and trains a small tfjs model
 * (the global `tf` of /tf.min.js) inside `exp.run(…)` with `TensorflowCallback`, which logs every
 * epoch's metrics into the run. The link to the run's chart in the server's web UI shows as soon
 * as the run has a number: the chart fills in while the model trains.
 */
import { config } from './config.js';

const $ = (id) => document.getElementById(id);
const setState = (state, text) => {
  document.body.dataset.state = state;
  $('status').textContent = text;
};
const problem = (text) => {
  $('problems').textContent += `${text}\n`;
};

let client;
try {
  client = await import(`${config.server}/omega-track.browser.js`);
} catch (error) {
  problem(`cannot load the client from ${config.server}: is omega-track server running there? (${error})`);
  setState('failed', 'no client');
  throw error;
}
const { omega, TensorflowCallback } = client;
const tf = globalThis.tf;
// the backend tfjs picks here (webgl, webgpu, wasm or cpu), logged as a param of every run
await tf.ready();

/** The web UI's page of a run's charts: the hash route of the UI (cli/src/ui/client/router.ts). */
function runChartUrl(server, experiment, run) {
  return `${server}/#/e/${encodeURIComponent(experiment)}/compare?runs=${run}`;
}

/** Two interleaved half-moons with a little noise: points (x, y) and their class 0 / 1. */
function twoMoons(n, seed) {
  let s = seed;
  // a small deterministic generator: every page load trains on the same points
  const random = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const xs = [];
  const ys = [];
  for (let i = 0; i < n; i++) {
    const upper = i % 2 === 0;
    const t = Math.PI * random();
    const x = upper ? Math.cos(t) : 1 - Math.cos(t);
    const y = upper ? Math.sin(t) : 0.5 - Math.sin(t);
    xs.push(x + (random() - 0.5) * 0.2, y + (random() - 0.5) * 0.2);
    ys.push(upper ? 0 : 1);
  }
  return { xs: tf.tensor2d(xs, [n, 2]), ys: tf.tensor2d(ys, [n, 1]) };
}

// a page logs with a token of its own: a `write` token limited to the demo experiments, since
// anyone who opens the page can read it (see docs/browser.md)
const om = omega({
  store: config.server,
  token: config.token,
  tf,
  onError: (error, context) => problem(`${context ?? ''}: ${error instanceof Error ? error.message : error}`),
});
const exp = om.runtime.experiment(config.experiment);

$('server').textContent = config.server;
$('experiment').textContent = config.experiment;

async function train() {
  $('train').disabled = true;
  $('problems').textContent = '';
  const rows = $('epochs').querySelector('tbody');
  rows.textContent = '';
  const params = { epochs: config.epochs, batchSize: 32, learningRate: 0.05, units: 16, points: 400 };
  setState('training', 'starting a run…');
  try {
    const run = await exp.run(async (e) => {
      const run = e.currentRun;
      const link = $('run-link');
      link.href = runChartUrl(config.server, config.experiment, run);
      link.textContent = `${config.experiment}, run ${run}`;
      $('chart').hidden = false;
      e.logParams({ ...params, backend: tf.getBackend() });

      const model = tf.sequential();
      model.add(tf.layers.dense({ units: params.units, activation: 'relu', inputShape: [2] }));
      model.add(tf.layers.dense({ units: params.units, activation: 'relu' }));
      model.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
      model.compile({
        optimizer: tf.train.adam(params.learningRate),
        loss: 'binaryCrossentropy',
        metrics: ['accuracy'],
      });
      const { xs, ys } = twoMoons(params.points, 42);
      $('epochs').hidden = false;
      await model.fit(xs, ys, {
        epochs: params.epochs,
        batchSize: params.batchSize,
        validationSplit: 0.2,
        shuffle: true,
        callbacks: [
          // logs loss, acc, val_loss, val_acc per epoch (and the optimizer's settings as params)
          new TensorflowCallback(e),
          new tf.CustomCallback({
            onEpochEnd: async (epoch, logs) => {
              const tr = rows.insertRow();
              tr.insertCell().textContent = String(epoch);
              for (const v of [logs.loss, logs.acc, logs.val_loss, logs.val_acc])
                tr.insertCell().textContent = typeof v === 'number' ? v.toFixed(4) : '';
              setState('training', `run ${run}: epoch ${epoch + 1} of ${params.epochs}`);
            },
          }),
        ],
      });
      tf.dispose([xs, ys]);
      model.dispose();
      return run;
    });
    // run() stopped the run: its events are in IndexedDB, shipping to the server in the background
    setState('done', `run ${run} finished; its events ship to the server in the background`);
  } catch (error) {
    // a refused token, an experiment the token does not reach, a server that does not answer
    problem(error instanceof Error ? error.message : String(error));
    setState('failed', 'the run failed');
  } finally {
    $('train').disabled = false;
  }
}

$('train').addEventListener('click', () => void train());
$('train').disabled = false;
setState('ready', 'ready');
// ?autostart trains at once (the test opens the page this way)
if (new URLSearchParams(location.search).has('autostart')) void train();
