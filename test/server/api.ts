/** Requests to a team server in tests: JSON in, the answer's status and JSON out. */
import zlib from 'node:zlib';

/** One answer. */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** Options of `call`. */
export interface CallOptions {
  method?: string;
  /** A value sent as JSON, or bytes/text sent as they are. */
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  gzip?: boolean;
}

/** Calls `url + path`. */
export async function call(url: string, path: string, opts: CallOptions = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.Authorization = `Bearer ${opts.token}`;
  let body: Buffer | string | undefined;
  if (opts.body !== undefined) {
    body =
      Buffer.isBuffer(opts.body) || typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['Content-Type'] ??= 'application/json';
    if (opts.gzip) {
      body = zlib.gzipSync(body);
      headers['Content-Encoding'] = 'gzip';
    }
  }
  const res = await fetch(url + path, {
    method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The start event of a run, as a client sends it. */
export function startBody(
  request?: string,
  extra: Record<string, unknown> | null = null,
): Record<string, unknown> {
  return {
    start: {
      event: 'start',
      key: 'start',
      value: null,
      step: null,
      dt: Date.now(),
      node: 'host1',
      userid: 'alice',
      extra,
    },
    ...(request ? { request } : {}),
  };
}

/** A batch of `n` metrics `loss` of `run`, steps from `from`. */
export function metricBatch(id: string, run: number, n: number, from = 0): Record<string, unknown> {
  const now = Date.now();
  return {
    batch: id,
    strings: ['metric', 'loss', 'host1', 'alice'],
    run: Array<number>(n).fill(run),
    event: Array<number>(n).fill(0),
    key: Array<number>(n).fill(1),
    value: Array.from({ length: n }, (_, i) => 1 / (from + i + 1)),
    step: Array.from({ length: n }, (_, i) => from + i),
    dt: Array.from({ length: n }, (_, i) => now + i),
    node: Array<number>(n).fill(2),
    userid: Array<number>(n).fill(3),
  };
}

/** The rows of a query answer (ndjson), decoded into events; throws when the end line is missing. */
export function queryRows(text: string): Array<Record<string, unknown>> {
  const lines = text.split('\n').filter(Boolean);
  const last = JSON.parse(lines[lines.length - 1] ?? '{}') as { end?: boolean; count?: number };
  if (!last.end) throw new Error(`the query's answer was cut: ${text.slice(-200)}`);
  const rows: Array<Record<string, unknown>> = [];
  for (const line of lines.slice(0, -1)) {
    const b = JSON.parse(line) as Record<string, unknown[]> & { strings: string[] };
    for (let i = 0; i < b.run.length; i++)
      rows.push({
        run: b.run[i],
        event: b.strings[b.event[i] as number],
        key: b.strings[b.key[i] as number],
        value: b.value[i],
        step: b.step[i],
        dt: b.dt[i],
        node: b.strings[b.node[i] as number],
        userid: b.strings[b.userid[i] as number],
        ...((b.extra?.[i] as object | null) ?? {}),
      });
  }
  if (rows.length !== last.count)
    throw new Error(`the end line counts ${last.count}, the lines hold ${rows.length}`);
  return rows;
}

/** Every stored event of `experiment`, read through the server. */
export async function storedRows(
  url: string,
  experiment: string,
  token?: string,
): Promise<Array<Record<string, unknown>>> {
  const a = await call(url, `/api/v1/experiments/${encodeURIComponent(experiment)}/events/query`, {
    body: { query: {} },
    token,
  });
  if (a.status !== 200) throw new Error(`query answered ${a.status}: ${a.text}`);
  return queryRows(a.text);
}

/** The experiment configuration entry a client puts before its first run. */
export function experimentEntry(name: string): Record<string, unknown> {
  const now = Date.now();
  return {
    name: `experiments/${name}`,
    kind: 'experiment.tracker',
    attributes: {
      tracking: { provider: 'default', options: {}, created: new Date(now).toISOString(), dataset: name },
    },
    created: now,
    modified: now,
  };
}
