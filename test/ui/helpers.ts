/** A prepared store for the UI server's tests, the server on a free port, and raw HTTP requests. */
import http from 'node:http';
import path from 'node:path';
import type { UiServerHandle, UiServerOptions } from 'omega-track';
import { Metadata, omega, startUiServer } from 'omega-track';
import { FakeMlflowServer } from '../mlflow/FakeMlflowServer';
import { tempDir } from '../helpers/tmp';

/** The experiment whose name is markup: every page must show it as text. */
export const XSS_NAME = '<img src=x onerror=alert(1)>';

/** What `prepareStore` made. */
export interface PreparedStore {
  dir: string;
  /** The store URL (`sqlite:<dir>/omega.db`). */
  store: string;
  /** The fake MLflow server the `mlflow-exp` experiment lives on. */
  mlflow: FakeMlflowServer;
  cleanup: () => Promise<void>;
}

/** The bytes of the `weights` binary artifact. */
export const BINARY = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]);

/**
 * A store with:
 * - `train` (default provider): runs 1 and 2 STOPPED with params lr/batch, tags, a name, metrics
 *   loss (steps 0-9; run 2 has a NaN at step 4 and +Infinity at step 7), acc, and in run 2 gap
 *   (only NaN); a tag `cmd` that a spreadsheet would run; run 3 FAILED;
 *   run 1 also holds artifacts of every kind (JSON, binary, dataset, typed array, serialized, repr,
 *   metadata, logData) and profile events (cpu_load, memory_used, gpu_util on two GPUs).
 * - the XSS-named experiment, with one run;
 * - `team/a` (a slash in the name), with one run;
 * - `mlflow-exp` (mlflow provider, on a fake MLflow server), one run with a metric: read through
 *   the provider, not the store.
 */
export async function prepareStore(): Promise<PreparedStore> {
  const tmp = tempDir('omega-ui-');
  const store = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
  const mlflow = new FakeMlflowServer();
  await mlflow.start();
  const om = omega({ store, onError: () => undefined });
  const train = om.runtime.experiment('train');
  for (const r of [1, 2]) {
    await train.start({ name: `run-${r}`, tags: { team: 'nlp', seed: r, cmd: '=1+2' } });
    train.logParams({ lr: r === 1 ? 0.01 : 0.1, batch: 32 });
    for (let step = 0; step < 10; step++) {
      let loss = 1 / (step + r);
      if (r === 2 && step === 4) loss = NaN;
      if (r === 2 && step === 7) loss = Infinity;
      train.logMetric('loss', loss, step);
      train.logMetric('acc', step / 10, step);
    }
    if (r === 2) train.logMetric('gap', NaN, 0);
    if (r === 1) {
      train.logArtifact({ a: 1, nested: { list: [1, 2, 3] }, text: '<b>bold</b>' }, 'config');
      train.logArtifact(BINARY, 'weights');
      train.logArtifact(
        Array.from({ length: 10_001 }, (_, i) => i),
        'big-list',
      );
      train.logArtifact(new Float32Array([1.5, 2.5, -3]), 'floats');
      train.logArtifact(new Map([['k', 1]]), 'a map');
      train.logArtifact(() => 1, 'fn');
      const now = new Date();
      train.logArtifact(
        new Metadata({ name: 'm', kind: 'json', attributes: { x: 1 }, created: now, modified: now }),
        'meta',
      );
      train.logArtifact({ version: 2 }, 'config');
      train.logData('rows', [{ x: 1 }, { x: 2 }]);
      for (let s = 0; s < 5; s++) {
        const dt = Date.now() - 10_000 + s * 1000;
        train.logEvent('profile', 'cpu_load', 10 + s, { step: s, dt });
        train.logEvent('profile', 'memory_used', 1e9 + s, { step: s, dt });
        train.logEvent('profile', 'profile_dt', new Date(dt).toISOString(), { step: s, dt });
        for (const gpu of [0, 1]) train.logEvent('profile', 'gpu_util', gpu * 50 + s, { step: s, dt, gpu });
      }
    }
    await train.stop();
  }
  await train.start();
  train.logMetric('loss', 3, 0);
  await train.stop({ error: new Error('diverged at step 0') });

  const xss = om.runtime.experiment(XSS_NAME);
  await xss.start({ name: '<script>alert(2)</script>' });
  xss.logParam('<b>p</b>', '<i>v</i>');
  xss.logMetric('m', 1, 0);
  await xss.stop();

  const team = om.runtime.experiment('team/a');
  await team.run((e) => e.logMetric('m', 2, 0));

  const remote = om.runtime.experiment('mlflow-exp', {
    provider: 'mlflow',
    trackingUri: mlflow.url,
    spool: path.join(tmp.dir, 'mlflow-spool.db'),
  });
  await remote.start();
  for (let step = 0; step < 20; step++) remote.logMetric('loss', 1 / (step + 1), step);
  remote.logParam('lr', 0.5);
  await remote.stop();
  await om.close();
  return {
    dir: tmp.dir,
    store,
    mlflow,
    cleanup: async () => {
      await mlflow.stop();
      tmp.cleanup();
    },
  };
}

/** Starts the UI server on a free port over `store`. */
export function startServer(store: string, opts: UiServerOptions = {}): Promise<UiServerHandle> {
  return startUiServer({ store, port: 0, ...opts });
}

/** One HTTP answer. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
}

/**
 * A request with the path sent exactly as given (fetch would normalize `..` away, which is
 * what path traversal attempts must not be spared).
 */
export function request(
  port: number,
  rawPath: string,
  opts: { method?: string; headers?: Record<string, string>; host?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: opts.host ?? '127.0.0.1',
        port,
        path: rawPath,
        method: opts.method ?? 'GET',
        headers: opts.headers,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const body = Buffer.concat(parts);
          const text = body.toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** An open event stream: the events as they come. */
export interface EventStream {
  /** Resolves with the next event of type `type` (its data parsed) — those already come included. */
  next(type: string): Promise<unknown>;
  /** Closes the connection. */
  close(): void;
}

/** Opens `/api/live…` and parses the Server-Sent Events it sends. */
export function openEvents(
  port: number,
  rawPath: string,
  headers: Record<string, string> = {},
): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const queue: Array<{ type: string; data: unknown }> = [];
    const waiting: Array<{ type: string; resolve: (data: unknown) => void }> = [];
    let buffer = '';
    const deliver = (): void => {
      for (let w = 0; w < waiting.length; w++) {
        const i = queue.findIndex((e) => e.type === waiting[w].type);
        if (i < 0) continue;
        const [event] = queue.splice(i, 1);
        const [waiter] = waiting.splice(w--, 1);
        waiter.resolve(event.data);
      }
    };
    const req = http.get({ host: '127.0.0.1', port, path: rawPath, headers }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`event stream answered ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let type = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length) queue.push({ type, data: JSON.parse(data.join('\n')) });
        }
        deliver();
      });
      resolve({
        next: (type) =>
          new Promise((res2) => {
            waiting.push({ type, resolve: res2 });
            deliver();
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e);
    });
  });
}
