/**
 * The MLflow fake must answer like the real MLflow 2.17.2 server recorded in
 * /work/shared/reference/mlflow-rest.md; otherwise tests of our MLflow client prove nothing. Expected values
 * below are copied from that reference's "Recorded responses" and "Edge cases" sections.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { FakeMlflowServer } from './mlflow/FakeMlflowServer';

interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

const API_DOCS = ' See the API docs for more information about request parameters.';
const JSON_HEADERS = { 'Content-Type': 'application/json' };
const b64 = (s: string): string => Buffer.from(s).toString('base64');

let server: FakeMlflowServer;
let seq = 0;
const unique = (prefix: string): string => `${prefix}-${++seq}-${randomBytes(3).toString('hex')}`;

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<HttpResult> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: headers ?? (body === undefined ? {} : JSON_HEADERS),
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const post = (endpoint: string, body: unknown): Promise<HttpResult> =>
  call('POST', `/api/2.0/mlflow/${endpoint}`, body);
const get = (endpoint: string, query: Record<string, string | number> = {}): Promise<HttpResult> => {
  const qs = new URLSearchParams(
    Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
  return call('GET', `/api/2.0/mlflow/${endpoint}${qs ? `?${qs}` : ''}`);
};

const invalid = (message: string): { error_code: string; message: string } => ({
  error_code: 'INVALID_PARAMETER_VALUE',
  message,
});

async function createExperiment(name = unique('exp')): Promise<string> {
  const res = await post('experiments/create', { name });
  expect(res.status).toBe(200);
  return res.json.experiment_id as string;
}

async function createRun(experimentId?: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await post('runs/create', {
    experiment_id: experimentId ?? (await createExperiment()),
    start_time: 1700000000000,
    ...extra,
  });
  expect(res.status).toBe(200);
  return res.json.run.info.run_id as string;
}

const metrics = (n: number, key = 'm'): Array<Record<string, unknown>> =>
  Array.from({ length: n }, (_, i) => ({ key, value: i / 10, timestamp: 1700000000000 + i, step: i }));
const params = (n: number): Array<Record<string, unknown>> =>
  Array.from({ length: n }, (_, i) => ({ key: `p${i}`, value: String(i) }));

beforeAll(async () => {
  server = new FakeMlflowServer();
  await server.start();
});

afterAll(async () => {
  await server.stop();
});

describe('service routes', () => {
  test('/health and /version answer plain text', async () => {
    const health = await call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.text).toBe('OK');
    const version = await call('GET', '/version');
    expect(version.text).toBe('2.17.2');
  });

  test('an unknown route is an HTML 404, not JSON', async () => {
    const res = await call('GET', '/api/2.0/mlflow/nonexistent');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toMatch(/^<!doctype html>/);
    expect(res.json).toBeUndefined();
  });

  test('runs/search is POST only', async () => {
    const res = await get('runs/search', { experiment_ids: '0' });
    expect(res.status).toBe(405);
    expect(res.json).toBeUndefined();
  });

  test('the /ajax-api alias serves the same data', async () => {
    const name = unique('ajax');
    const id = await createExperiment(name);
    const res = await call('GET', `/ajax-api/2.0/mlflow/experiments/get?experiment_id=${id}`);
    expect(res.status).toBe(200);
    expect(res.json.experiment.name).toBe(name);
  });

  test('every answered request is recorded in order', async () => {
    const before = server.requests.length;
    await post('experiments/create', { name: unique('rec') });
    await call('GET', '/health');
    const [created, health] = server.requests.slice(before);
    expect(created).toMatchObject({
      method: 'POST',
      path: '/api/2.0/mlflow/experiments/create',
      status: 200,
    });
    expect((created.body as { name: string }).name).toMatch(/^rec-/);
    expect(created.bytes).toBe(Buffer.byteLength(JSON.stringify(created.body)));
    expect(health).toMatchObject({ method: 'GET', path: '/health', status: 200, bytes: 0 });
  });
});

describe('experiments', () => {
  test('create, duplicate name, get-by-name, get, and the 404 message', async () => {
    const created = await post('experiments/create', {
      name: 'demo-exp',
      tags: [{ key: 'team', value: 'ts' }],
    });
    expect(created.status).toBe(200);
    expect(created.json).toEqual({ experiment_id: expect.stringMatching(/^[1-9]\d*$/) });
    const id = created.json.experiment_id as string;

    const dup = await post('experiments/create', { name: 'demo-exp' });
    expect(dup.status).toBe(400);
    expect(dup.json.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    expect(dup.json.message).toMatch(/^Experiment\(name=demo-exp\) already exists\. Error: /);

    const expected = {
      experiment_id: id,
      name: 'demo-exp',
      artifact_location: `mlflow-artifacts:/${id}`,
      lifecycle_stage: 'active',
      last_update_time: expect.any(Number),
      creation_time: expect.any(Number),
      tags: [{ key: 'team', value: 'ts' }],
    };
    const byName = await get('experiments/get-by-name', { experiment_name: 'demo-exp' });
    expect(byName.status).toBe(200);
    expect(byName.json).toEqual({ experiment: expected });
    expect((await get('experiments/get', { experiment_id: id })).json).toEqual({ experiment: expected });

    const nope = await get('experiments/get-by-name', { experiment_name: 'nope' });
    expect(nope.status).toBe(404);
    expect(nope.json).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: "Could not find experiment with name 'nope'",
    });
    expect(server.experimentByName('demo-exp')).toMatchObject({
      experiment_id: id,
      lifecycle_stage: 'active',
    });
  });

  test('an experiment without tags has no tags key, and "0" is the Default experiment', async () => {
    const res = await get('experiments/get', { experiment_id: '0' });
    expect(res.json.experiment).toMatchObject({
      experiment_id: '0',
      name: 'Default',
      lifecycle_stage: 'active',
    });
    expect(res.json.experiment).not.toHaveProperty('tags');
  });

  test('missing and over-long names are refused', async () => {
    expect((await post('experiments/create', {})).json).toEqual(
      invalid(`Missing value for required parameter 'name'.${API_DOCS}`),
    );
    const long = await post('experiments/create', { name: 'x'.repeat(501) });
    expect(long.status).toBe(400);
    expect(long.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await post('experiments/create', { name: unique('y'.repeat(480)) })).status).toBe(200);
  });

  test('search: name filter, paging with an offset token by POST and GET, view types', async () => {
    const name = unique('searchable');
    const id = await createExperiment(name);
    const filtered = await post('experiments/search', { max_results: 10, filter: `name = '${name}'` });
    expect(filtered.json).toEqual({ experiments: [expect.objectContaining({ experiment_id: id, name })] });

    const page1 = await post('experiments/search', { max_results: 1 });
    expect(page1.json.experiments).toHaveLength(1);
    expect(page1.json.next_page_token).toBe('eyJvZmZzZXQiOiAxfQ==');
    expect(Buffer.from(page1.json.next_page_token as string, 'base64').toString()).toBe('{"offset": 1}');
    const viaGet = await get('experiments/search', { max_results: 1 });
    expect(viaGet.json).toEqual(page1.json);
    const page2 = await post('experiments/search', {
      max_results: 1,
      page_token: page1.json.next_page_token,
    });
    expect(page2.json.experiments[0].experiment_id).not.toBe(page1.json.experiments[0].experiment_id);

    await post('experiments/delete', { experiment_id: id });
    expect((await post('experiments/search', { filter: `name = '${name}'` })).json).toEqual({});
    const deleted = await post('experiments/search', {
      filter: `name = '${name}'`,
      view_type: 'DELETED_ONLY',
    });
    expect(deleted.json.experiments).toHaveLength(1);
    const all = await post('experiments/search', { filter: `name LIKE '${name}%'`, view_type: 'ALL' });
    expect(all.json.experiments[0].lifecycle_stage).toBe('deleted');
  });

  test('a deleted experiment keeps its name, is still found by name, and takes no runs', async () => {
    const name = unique('gone');
    const id = await createExperiment(name);
    expect((await post('experiments/delete', { experiment_id: id })).json).toEqual({});
    const byName = await get('experiments/get-by-name', { experiment_name: name });
    expect(byName.status).toBe(200);
    expect(byName.json.experiment.lifecycle_stage).toBe('deleted');

    const again = await post('experiments/create', { name });
    expect(again.status).toBe(400);
    expect(again.json.error_code).toBe('RESOURCE_ALREADY_EXISTS');

    const run = await post('runs/create', { experiment_id: id });
    expect(run.status).toBe(400);
    expect(run.json).toEqual(
      invalid(`The experiment ${id} must be in the 'active' state. Current state is deleted.`),
    );

    expect((await post('experiments/restore', { experiment_id: id })).json).toEqual({});
    expect((await post('runs/create', { experiment_id: id })).status).toBe(200);
  });

  test('set-experiment-tag adds a tag', async () => {
    const id = await createExperiment();
    expect(
      (await post('experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'v' })).json,
    ).toEqual({});
    expect((await get('experiments/get', { experiment_id: id })).json.experiment.tags).toEqual([
      { key: 'k', value: 'v' },
    ]);
  });
});

describe('runs', () => {
  test('create answers like the recorded server: 32-hex id, runName tag appended, no inputs key', async () => {
    const expId = await createExperiment();
    const res = await post('runs/create', {
      experiment_id: expId,
      run_name: 'r1',
      start_time: 1700000000000,
      tags: [{ key: 'mlflow.user', value: 'alice' }],
    });
    expect(res.status).toBe(200);
    const runId = res.json.run.info.run_id as string;
    expect(runId).toMatch(/^[0-9a-f]{32}$/);
    expect(res.json).toEqual({
      run: {
        info: {
          run_uuid: runId,
          experiment_id: expId,
          run_name: 'r1',
          user_id: '',
          status: 'RUNNING',
          start_time: 1700000000000,
          artifact_uri: `mlflow-artifacts:/${expId}/${runId}/artifacts`,
          lifecycle_stage: 'active',
          run_id: runId,
        },
        data: {
          tags: [
            { key: 'mlflow.user', value: 'alice' },
            { key: 'mlflow.runName', value: 'r1' },
          ],
        },
      },
    });
  });

  test('without run_name a name is generated and mirrored in the tag; start_time defaults to 0', async () => {
    const res = await post('runs/create', { experiment_id: await createExperiment() });
    const info = res.json.run.info;
    expect(info.run_name).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
    expect(info.start_time).toBe(0);
    expect(res.json.run.data.tags).toEqual([{ key: 'mlflow.runName', value: info.run_name }]);
  });

  test('create in an unknown experiment is a 404', async () => {
    const res = await post('runs/create', { experiment_id: '999999' });
    expect(res.status).toBe(404);
    expect(res.json).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: 'No Experiment with id=999999 exists',
    });
  });

  test('the recorded session: log, update, get with latest metrics, search, delete, restore', async () => {
    const expId = await createExperiment();
    const runId = await createRun(expId, { run_name: 'r1', tags: [{ key: 'mlflow.user', value: 'alice' }] });
    const batch = await post('runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'loss', value: 0.9, timestamp: 1700000001000, step: 0 },
        { key: 'loss', value: 0.5, timestamp: 1700000002000, step: 1 },
        { key: 'acc', value: 0.7, timestamp: 1700000002000, step: 1 },
      ],
      params: [
        { key: 'lr', value: '0.001' },
        { key: 'epochs', value: '2' },
      ],
      tags: [{ key: 'framework', value: 'tfjs' }],
    });
    expect(batch.status).toBe(200);
    expect(batch.json).toEqual({});
    const logged = await post('runs/log-metric', {
      run_id: runId,
      key: 'loss',
      value: 0.25,
      timestamp: 1700000003000,
      step: 2,
    });
    expect(logged.json).toEqual({});
    await post('runs/log-metric', {
      run_id: runId,
      key: 'weird',
      value: 'NaN',
      timestamp: 1700000003000,
      step: 2,
    });
    expect(
      (await post('runs/log-parameter', { run_id: runId, key: 'batch_size', value: '32' })).json,
    ).toEqual({});
    expect(
      (await post('runs/set-tag', { run_id: runId, key: 'mlflow.note.content', value: 'hello' })).json,
    ).toEqual({});

    const updated = await post('runs/update', { run_id: runId, status: 'FINISHED', end_time: 1700000009000 });
    const info = {
      run_uuid: runId,
      experiment_id: expId,
      run_name: 'r1',
      user_id: '',
      status: 'FINISHED',
      start_time: 1700000000000,
      end_time: 1700000009000,
      artifact_uri: `mlflow-artifacts:/${expId}/${runId}/artifacts`,
      lifecycle_stage: 'active',
      run_id: runId,
    };
    expect(updated.json).toEqual({ run_info: info });

    const data = {
      metrics: [
        { key: 'loss', value: 0.25, timestamp: 1700000003000, step: 2 },
        { key: 'acc', value: 0.7, timestamp: 1700000002000, step: 1 },
        { key: 'weird', value: 'NaN', timestamp: 1700000003000, step: 2 },
      ],
      params: [
        { key: 'lr', value: '0.001' },
        { key: 'epochs', value: '2' },
        { key: 'batch_size', value: '32' },
      ],
      tags: [
        { key: 'mlflow.user', value: 'alice' },
        { key: 'mlflow.runName', value: 'r1' },
        { key: 'framework', value: 'tfjs' },
        { key: 'mlflow.note.content', value: 'hello' },
      ],
    };
    const got = await get('runs/get', { run_id: runId });
    expect(got.json).toEqual({ run: { info, data, inputs: {} } });
    // JSON key order matches the recorded response too.
    expect(Object.keys(got.json.run.info)).toEqual(Object.keys(info));

    const found = await post('runs/search', {
      experiment_ids: [expId],
      filter: "metrics.loss < 1 and params.lr = '0.001'",
      order_by: ['start_time DESC'],
      max_results: 5,
    });
    expect(found.json).toEqual({ runs: [{ info, data, inputs: {} }] });

    expect((await post('runs/delete', { run_id: runId })).json).toEqual({});
    expect((await get('runs/get', { run_id: runId })).json.run.info.lifecycle_stage).toBe('deleted');
    expect((await post('runs/search', { experiment_ids: [expId] })).json).toEqual({});
    const withDeleted = await post('runs/search', { experiment_ids: [expId], run_view_type: 'ALL' });
    expect(withDeleted.json.runs).toHaveLength(1);
    expect((await post('runs/restore', { run_id: runId })).json).toEqual({});
    expect((await get('runs/get', { run_id: runId })).json.run.info.lifecycle_stage).toBe('active');
  });

  test('the latest metric is the max of (step, timestamp, value), not the last written', async () => {
    const runId = await createRun();
    await post('runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'x', value: 5, timestamp: 10, step: 3 },
        { key: 'x', value: 9, timestamp: 99, step: 1 },
        { key: 'x', value: 1, timestamp: 10, step: 3 },
      ],
    });
    expect((await get('runs/get', { run_id: runId })).json.run.data.metrics).toEqual([
      { key: 'x', value: 5, timestamp: 10, step: 3 },
    ]);
  });

  test('an unknown run id is a 404 with the recorded message', async () => {
    const res = await get('runs/get', { run_id: '00000000000000000000000000000000' });
    expect(res.status).toBe(404);
    expect(res.json).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: 'Run with id=00000000000000000000000000000000 not found',
    });
    expect((await get('runs/get', { run_id: 'bad!id' })).status).toBe(404);
  });

  test('search: tag filter, backticked tag key, status, ordering, paging and unsupported filters', async () => {
    const expId = await createExperiment();
    const a = await createRun(expId, {
      run_name: 'alpha',
      start_time: 1000,
      tags: [{ key: 'team', value: 'red' }],
    });
    const b = await createRun(expId, {
      run_name: 'beta',
      start_time: 2000,
      tags: [{ key: 'team', value: 'blue' }],
    });
    await post('runs/update', { run_id: b, status: 'FINISHED', end_time: 3000 });
    const ids = async (body: Record<string, unknown>): Promise<string[]> => {
      const res = await post('runs/search', { experiment_ids: [expId], ...body });
      expect(res.status).toBe(200);
      return ((res.json.runs ?? []) as Array<{ info: { run_id: string } }>).map((r) => r.info.run_id);
    };
    expect(await ids({ filter: "tags.team = 'red'" })).toEqual([a]);
    expect(await ids({ filter: "tags.`mlflow.runName` = 'beta'" })).toEqual([b]);
    expect(await ids({ filter: "attributes.status = 'FINISHED'" })).toEqual([b]);
    expect(await ids({ filter: "attributes.run_name LIKE 'al%' and tags.team != 'blue'" })).toEqual([a]);
    expect(await ids({ order_by: ['start_time DESC'] })).toEqual([b, a]);
    expect(await ids({ order_by: ['start_time ASC'] })).toEqual([a, b]);
    expect(await ids({ filter: "tags.team = 'green'" })).toEqual([]);

    const page1 = await post('runs/search', {
      experiment_ids: [expId],
      max_results: 1,
      order_by: ['start_time ASC'],
    });
    expect(page1.json.runs[0].info.run_id).toBe(a);
    expect(page1.json.next_page_token).toBe(b64('{"offset": 1}'));
    const page2 = await post('runs/search', {
      experiment_ids: [expId],
      max_results: 1,
      order_by: ['start_time ASC'],
      page_token: page1.json.next_page_token,
    });
    expect(page2.json.runs[0].info.run_id).toBe(b);

    for (const filter of [
      "tags.team = 'red' or tags.team = 'blue'",
      'params.lr = 0.001',
      'bogus.x = 1',
      'metrics.loss',
    ]) {
      const res = await post('runs/search', { experiment_ids: [expId], filter });
      expect(res.status).toBe(400);
      expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    const tooMany = await post('runs/search', { experiment_ids: [expId], max_results: 50001 });
    expect(tooMany.status).toBe(400);
  });
});

describe('logging validation', () => {
  test('log-batch limits: 1001 metrics, 101 params, 950 metrics + 60 params; exactly 1000 is fine', async () => {
    const runId = await createRun();
    const tooManyMetrics = await post('runs/log-batch', { run_id: runId, metrics: metrics(1001) });
    expect(tooManyMetrics.status).toBe(400);
    expect(tooManyMetrics.json).toEqual(
      invalid(
        'A batch logging request can contain at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again.',
      ),
    );
    const tooManyParams = await post('runs/log-batch', { run_id: runId, params: params(101) });
    expect(tooManyParams.json).toEqual(
      invalid(
        'A batch logging request can contain at most 100 params. Got 101 params. Please split up params across multiple requests and try again.',
      ),
    );
    const tooManyTags = await post('runs/log-batch', { run_id: runId, tags: params(101) });
    expect(tooManyTags.json.message).toMatch(
      /^A batch logging request can contain at most 100 tags\. Got 101 tags/,
    );
    const tooManyTotal = await post('runs/log-batch', {
      run_id: runId,
      metrics: metrics(950),
      params: params(60),
    });
    expect(tooManyTotal.json).toEqual(
      invalid(
        'A batch logging request can contain at most 1000 metrics, params, and tags. Got 1010 metrics, params, and tags. Please split up metrics, params, and tags across multiple requests and try again.',
      ),
    );
    // Refused batches write nothing.
    expect(server.metricHistory(runId, 'm')).toEqual([]);

    expect((await post('runs/log-batch', { run_id: runId, metrics: metrics(1000) })).json).toEqual({});
    const history = await get('metrics/get-history', { run_id: runId, metric_key: 'm', max_results: 25000 });
    expect(history.json.metrics).toHaveLength(1000);
    expect(history.json).not.toHaveProperty('next_page_token');
  });

  test('key rules: bad characters, path-like names, length; colon and space are allowed', async () => {
    const runId = await createRun();
    const bad = await post('runs/log-batch', {
      run_id: runId,
      metrics: [{ key: 'bad#key', value: 1, timestamp: 1 }],
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual(
      invalid(
        'Invalid value "bad#key" for parameter \'metrics[0].name\' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).',
      ),
    );
    const up = await post('runs/log-batch', {
      run_id: runId,
      metrics: [{ key: '../up', value: 1, timestamp: 1 }],
    });
    expect(up.status).toBe(400);
    expect(up.json.message).toMatch(
      /^Invalid value "\.\.\/up" for parameter 'metrics\[0\]\.name' supplied: /,
    );
    expect(up.json.message).toContain(
      "Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '../up'",
    );
    for (const key of ['a//b', 'a/', './a', '/abs']) {
      expect((await post('runs/log-parameter', { run_id: runId, key, value: 'v' })).status).toBe(400);
    }
    const longKey = 'k'.repeat(251);
    const long = await post('runs/log-parameter', { run_id: runId, key: longKey, value: 'v' });
    expect(long.json).toEqual(
      invalid(`Param key '${'k'.repeat(250)}' had length 251, which exceeded length limit of 250`),
    );
    const ok = await post('runs/log-batch', {
      run_id: runId,
      metrics: [{ key: 'ok/with:colon and space-._', value: 1, timestamp: 1 }],
    });
    expect(ok.status).toBe(200);
  });

  test('params: change refused with the recorded messages, same value again is fine, long values cut', async () => {
    const runId = await createRun();
    await post('runs/log-batch', { run_id: runId, params: [{ key: 'lr', value: '0.001' }] });
    const changed = await post('runs/log-parameter', { run_id: runId, key: 'lr', value: '0.01' });
    expect(changed.status).toBe(400);
    expect(changed.json).toEqual(
      invalid(
        `Changing param values is not allowed. Param with key='lr' was already logged with value='0.001' for run ID='${runId}'. Attempted logging new value '0.01'.`,
      ),
    );
    const changedInBatch = await post('runs/log-batch', {
      run_id: runId,
      params: [{ key: 'lr', value: '0.5' }],
    });
    expect(changedInBatch.json).toEqual(
      invalid(
        `Changing param values is not allowed. Params were already logged='[{'key': 'lr', 'old_value': '0.001', 'new_value': '0.5'}]' for run ID='${runId}'.`,
      ),
    );
    expect((await post('runs/log-parameter', { run_id: runId, key: 'lr', value: '0.001' })).status).toBe(200);
    expect(
      (await post('runs/log-batch', { run_id: runId, params: [{ key: 'lr', value: '0.001' }] })).status,
    ).toBe(200);

    const dup = await post('runs/log-batch', {
      run_id: runId,
      params: [
        { key: 'dupk', value: '1' },
        { key: 'dupk', value: '1' },
      ],
    });
    expect(dup.json).toEqual(
      invalid(
        "Duplicate parameter keys have been submitted: ['dupk']. Please ensure the request contains only one param value per param key.",
      ),
    );

    expect(
      (await post('runs/log-parameter', { run_id: runId, key: 'long', value: 'v'.repeat(7000) })).status,
    ).toBe(200);
    expect((await post('runs/log-parameter', { run_id: runId, key: 'empty', value: '' })).status).toBe(200);
    const stored = (await get('runs/get', { run_id: runId })).json.run.data.params as Array<{
      key: string;
      value: string;
    }>;
    expect(stored.find((p) => p.key === 'long')?.value).toBe('v'.repeat(6000));
    expect(stored.find((p) => p.key === 'empty')?.value).toBe('');
  });

  test('metric values: NaN round trip, infinities clamped, numeric strings for value, timestamp and step', async () => {
    const runId = await createRun();
    const res = await post('runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'nan', value: 'NaN', timestamp: 1, step: 0 },
        { key: 'inf', value: 'Infinity', timestamp: 1, step: 0 },
        { key: 'inf', value: '-Infinity', timestamp: 2, step: 1 },
        { key: 'str', value: '1.5', timestamp: '1700000000000', step: '3' },
        { key: 'neg', value: 2, timestamp: 5, step: -5 },
        { key: 'nostep', value: 3, timestamp: 6 },
      ],
    });
    expect(res.status).toBe(200);
    const history = async (key: string): Promise<unknown> =>
      (await get('metrics/get-history', { run_id: runId, metric_key: key, max_results: 25000 })).json.metrics;
    expect(await history('nan')).toEqual([{ key: 'nan', value: 'NaN', timestamp: 1, step: 0 }]);
    expect(await history('inf')).toEqual([
      { key: 'inf', value: 1.7976931348623157e308, timestamp: 1, step: 0 },
      { key: 'inf', value: -1.7976931348623157e308, timestamp: 2, step: 1 },
    ]);
    expect(await history('str')).toEqual([{ key: 'str', value: 1.5, timestamp: 1700000000000, step: 3 }]);
    expect(await history('neg')).toEqual([{ key: 'neg', value: 2, timestamp: 5, step: -5 }]);
    expect(await history('nostep')).toEqual([{ key: 'nostep', value: 3, timestamp: 6, step: 0 }]);
    const raw = await call(
      'GET',
      `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=nan&max_results=10`,
    );
    expect(raw.text).toContain('"value":"NaN"');
  });

  test('an identical metric point is stored once, within a batch and across requests', async () => {
    const runId = await createRun();
    const point = { key: 'dup', value: 0.5, timestamp: 1700000000000, step: 1 };
    expect((await post('runs/log-batch', { run_id: runId, metrics: [point, point] })).status).toBe(200);
    expect((await post('runs/log-metric', { run_id: runId, ...point })).status).toBe(200);
    await post('runs/log-metric', { run_id: runId, ...point, value: 0.6 });
    const res = await get('metrics/get-history', { run_id: runId, metric_key: 'dup', max_results: 25000 });
    expect(res.json.metrics).toEqual([point, { ...point, value: 0.6 }]);
    expect(server.metricHistory(runId, 'dup')).toEqual([point, { ...point, value: 0.6 }]);
  });

  test('required fields and bad values give the recorded messages', async () => {
    const runId = await createRun();
    const noTimestampInBatch = await post('runs/log-batch', {
      run_id: runId,
      metrics: [{ key: 'loss', value: 1 }],
    });
    expect(noTimestampInBatch.json).toEqual(
      invalid(`Missing value for required parameter 'metrics[0].timestamp'.${API_DOCS}`),
    );
    expect((await post('runs/log-metric', { run_id: runId, key: 'loss' })).json).toEqual(
      invalid(`Missing value for required parameter 'value'.${API_DOCS}`),
    );
    expect((await post('runs/log-metric', { run_id: runId, key: 'loss', value: 1 })).json).toEqual(
      invalid(`Missing value for required parameter 'timestamp'.${API_DOCS}`),
    );
    // JSON.stringify(NaN) is null, which MLflow reads as a missing value.
    expect(
      (await post('runs/log-metric', { run_id: runId, key: 'loss', value: null, timestamp: 1 })).json,
    ).toEqual(invalid(`Missing value for required parameter 'value'.${API_DOCS}`));
    const abc = await post('runs/log-metric', { run_id: runId, key: 'loss', value: 'abc', timestamp: 1 });
    expect(abc.json).toEqual(
      invalid(
        `Invalid value "abc" for parameter 'value' supplied:  Hint: Value was of type 'str'.${API_DOCS}`,
      ),
    );
    const negative = await post('runs/log-metric', { run_id: runId, key: 'loss', value: 0.5, timestamp: -1 });
    expect(negative.status).toBe(400);
    expect(negative.json.message).toContain('Timestamp must be a nonnegative long (64-bit integer)');
    expect(
      (await post('runs/log-metric', { run_id: runId, key: 'loss', value: 0.5, timestamp: 1, step: -5 }))
        .status,
    ).toBe(200);
    expect((await post('runs/log-metric', { key: 'loss', value: 1, timestamp: 1 })).json).toEqual(
      invalid(`Missing value for required parameter 'run_id'.${API_DOCS}`),
    );
  });

  test('POST bodies need Content-Type application/json; malformed JSON reads as an empty body', async () => {
    const message = "Bad Request. Content-Type must be one of ['application/json'].";
    const body = JSON.stringify({ name: unique('ct') });
    const none = await call('POST', '/api/2.0/mlflow/experiments/create', body, {});
    expect(none.status).toBe(400);
    expect(none.json).toEqual(invalid(message));
    const textPlain = await call('POST', '/api/2.0/mlflow/experiments/create', body, {
      'Content-Type': 'text/plain',
    });
    expect(textPlain.json).toEqual(invalid(message));
    const withCharset = await call('POST', '/api/2.0/mlflow/experiments/create', body, {
      'Content-Type': 'application/json; charset=utf-8',
    });
    expect(withCharset.status).toBe(200);
    const malformed = await call('POST', '/api/2.0/mlflow/runs/log-metric', '{"run_id": "x", ', JSON_HEADERS);
    expect(malformed.json).toEqual(invalid(`Missing value for required parameter 'run_id'.${API_DOCS}`));
  });

  test('a deleted run refuses logging; FINISHED and KILLED runs accept it', async () => {
    const runId = await createRun();
    await post('runs/update', { run_id: runId, status: 'KILLED' });
    const point = { run_id: runId, key: 'loss', value: 1, timestamp: 1 };
    expect((await post('runs/log-metric', point)).status).toBe(200);
    await post('runs/delete', { run_id: runId });
    const refused = await post('runs/log-metric', { ...point, step: 1 });
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual(
      invalid(`The run ${runId} must be in the 'active' state. Current state is deleted.`),
    );
    expect((await post('runs/log-batch', { run_id: runId, params: params(1) })).status).toBe(400);
    expect((await post('runs/set-tag', { run_id: runId, key: 'k', value: 'v' })).status).toBe(400);
    expect(server.metricHistory(runId, 'loss')).toHaveLength(1);
  });
});

describe('metrics/get-history pagination', () => {
  test('3.x behaviour (default): no max_results gives only an offset-0 token; max_results pages by offset', async () => {
    const runId = await createRun();
    await post('runs/log-batch', { run_id: runId, metrics: metrics(1000) });
    const bare = await get('metrics/get-history', { run_id: runId, metric_key: 'm' });
    expect(bare.json).toEqual({ next_page_token: 'eyJvZmZzZXQiOiAwfQ==' });

    const page1 = await get('metrics/get-history', { run_id: runId, metric_key: 'm', max_results: 400 });
    expect(page1.json.metrics).toHaveLength(400);
    expect(page1.json.metrics[0].step).toBe(0);
    expect(page1.json.metrics[399].step).toBe(399);
    expect(page1.json.next_page_token).toBe(b64('{"offset": 400}'));
    const page2 = await get('metrics/get-history', {
      run_id: runId,
      metric_key: 'm',
      max_results: 400,
      page_token: page1.json.next_page_token,
    });
    expect(page2.json.metrics[0].step).toBe(400);
    expect(page2.json.next_page_token).toBe(b64('{"offset": 800}'));
    const page3 = await get('metrics/get-history', {
      run_id: runId,
      metric_key: 'm',
      max_results: 400,
      page_token: page2.json.next_page_token,
    });
    expect(page3.json.metrics).toHaveLength(200);
    expect(page3.json).not.toHaveProperty('next_page_token');
  });

  test('2.17.2 behaviour (paginateHistory: false): max_results is ignored and everything comes back', async () => {
    const legacy = new FakeMlflowServer({ paginateHistory: false });
    await legacy.start();
    try {
      const headers = JSON_HEADERS;
      const base = `${legacy.url}/api/2.0/mlflow`;
      const exp = (await (
        await fetch(`${base}/experiments/create`, { method: 'POST', headers, body: '{"name":"legacy"}' })
      ).json()) as { experiment_id: string };
      const run = (await (
        await fetch(`${base}/runs/create`, { method: 'POST', headers, body: JSON.stringify(exp) })
      ).json()) as { run: { info: { run_id: string } } };
      const runId = run.run.info.run_id;
      await fetch(`${base}/runs/log-batch`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ run_id: runId, metrics: metrics(3, 'loss') }),
      });
      const res = await fetch(`${base}/metrics/get-history?run_id=${runId}&metric_key=loss&max_results=1`);
      const body = (await res.json()) as { metrics: unknown[]; next_page_token?: string };
      expect(body.metrics).toHaveLength(3);
      expect(body.next_page_token).toBeUndefined();
    } finally {
      await legacy.stop();
    }
  });
});

describe('artifacts', () => {
  test('proxy PUT, list, GET, run-relative list, DELETE', async () => {
    const expId = await createExperiment();
    const runId = await createRun(expId);
    const root = `${expId}/${runId}/artifacts`;
    const put = await call(
      'PUT',
      `/api/2.0/mlflow-artifacts/artifacts/${root}/model/a.txt`,
      'hello artifact\n',
      {
        'Content-Type': 'text/plain',
      },
    );
    expect(put.status).toBe(200);
    expect(put.json).toEqual({});

    const list = await call('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${root}`);
    expect(list.json).toEqual({ files: [{ path: 'model', is_dir: true }] });
    const listModel = await call('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${root}/model`);
    expect(listModel.json).toEqual({ files: [{ path: 'a.txt', is_dir: false, file_size: 15 }] });

    const download = await call('GET', `/api/2.0/mlflow-artifacts/artifacts/${root}/model/a.txt`);
    expect(download.status).toBe(200);
    expect(download.text).toBe('hello artifact\n');
    expect(download.headers.get('content-disposition')).toBe('attachment; filename=a.txt');
    expect(download.headers.get('content-type')).toBe('text/plain');

    const runList = await get('artifacts/list', { run_id: runId, path: 'model' });
    expect(runList.json).toEqual({
      root_uri: `mlflow-artifacts:/${expId}/${runId}/artifacts`,
      files: [{ path: 'model/a.txt', is_dir: false, file_size: 15 }],
    });
    expect(server.artifactFiles().get(`${root}/model/a.txt`)?.toString()).toBe('hello artifact\n');

    const del = await call('DELETE', `/api/2.0/mlflow-artifacts/artifacts/${root}/model/a.txt`);
    expect(del.json).toEqual({});
    expect((await call('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${root}/model`)).json).toEqual({});
    expect((await get('artifacts/list', { run_id: runId })).json).toEqual({
      root_uri: `mlflow-artifacts:/${expId}/${runId}/artifacts`,
    });
  });

  test('a 3 MB binary upload without Content-Type comes back byte-identical', async () => {
    const bytes = randomBytes(3_000_000);
    const path = `1/${'f'.repeat(32)}/artifacts/blob.bin`;
    const put = await fetch(`${server.url}/api/2.0/mlflow-artifacts/artifacts/${path}`, {
      method: 'PUT',
      body: bytes,
    });
    expect(put.status).toBe(200);
    const got = await fetch(`${server.url}/api/2.0/mlflow-artifacts/artifacts/${path}`);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
    expect(server.artifactFiles().get(path)?.equals(bytes)).toBe(true);
  });

  test('a missing file is a 500 INTERNAL_ERROR; ..%2F is an invalid path', async () => {
    const missing = await call('GET', '/api/2.0/mlflow-artifacts/artifacts/1/nothing/here.txt');
    expect(missing.status).toBe(500);
    expect(missing.json.error_code).toBe('INTERNAL_ERROR');
    expect(missing.json.message).toMatch(
      /^The following failures occurred while downloading one or more artifacts.*No such file or directory/,
    );
    const escape = await call('PUT', '/api/2.0/mlflow-artifacts/artifacts/1/..%2F..%2Fx', 'x', {
      'Content-Type': 'text/plain',
    });
    expect(escape.status).toBe(400);
    expect(escape.json).toEqual(invalid('Invalid path'));
    expect([...server.artifactFiles().keys()].some((k) => k.endsWith('/x') || k === 'x')).toBe(false);
    expect((await call('GET', '/api/2.0/mlflow-artifacts/artifacts?path=1/..%2F..')).status).toBe(400);
  });
});

describe('a local --default-artifact-root (option artifactRoot)', () => {
  test('experiments and runs get the bare path as their location, and artifacts/list reads that folder', async () => {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'fake-mlflow-root-'));
    const local = new FakeMlflowServer({ artifactRoot: dir });
    await local.start();
    try {
      const at = (path: string, body?: unknown): Promise<any> =>
        fetch(`${local.url}/api/2.0/mlflow/${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: body === undefined ? {} : JSON_HEADERS,
          body: body === undefined ? undefined : JSON.stringify(body),
        }).then((r) => r.json());
      expect((await at('experiments/get?experiment_id=0')).experiment.artifact_location).toBe(`${dir}/0`);
      const { experiment_id: expId } = await at('experiments/create', { name: 'local' });
      expect((await at(`experiments/get?experiment_id=${expId}`)).experiment.artifact_location).toBe(
        `${dir}/${expId}`,
      );
      const { run } = await at('runs/create', { experiment_id: expId, start_time: 1700000000000 });
      const uri = `${dir}/${expId}/${run.info.run_id}/artifacts`;
      expect(run.info.artifact_uri).toBe(uri);
      // what a client wrote into the folder, the server lists and serves (its UI shows it)
      fs.mkdirSync(`${uri}/model`, { recursive: true });
      fs.writeFileSync(`${uri}/model/a.txt`, 'hello\n');
      expect(await at(`artifacts/list?run_id=${run.info.run_id}&path=model`)).toEqual({
        root_uri: uri,
        files: [{ path: 'model/a.txt', is_dir: false, file_size: 6 }],
      });
      const served = await fetch(`${local.url}/get-artifact?run_id=${run.info.run_id}&path=model/a.txt`);
      expect(await served.text()).toBe('hello\n');
    } finally {
      await local.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('outages and injected failures', () => {
  test('failNext(2, 503, 1): two 503s with Retry-After, /health unaffected, then success', async () => {
    server.failNext(2, 503, 1);
    expect((await call('GET', '/health')).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await get('experiments/get', { experiment_id: '0' });
      expect(res.status).toBe(503);
      expect(res.json.error_code).toBe('TEMPORARILY_UNAVAILABLE');
      expect(res.headers.get('retry-after')).toBe('1');
    }
    const ok = await get('experiments/get', { experiment_id: '0' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('retry-after')).toBeNull();
  });

  test('failNext(1, 429) answers REQUEST_LIMIT_EXCEEDED without Retry-After', async () => {
    server.failNext(1, 429);
    const res = await post('experiments/search', {});
    expect(res.status).toBe(429);
    expect(res.json.error_code).toBe('REQUEST_LIMIT_EXCEEDED');
    expect(res.headers.get('retry-after')).toBeNull();
    expect((await post('experiments/search', {})).status).toBe(200);
  });

  test('stop() refuses connections (ECONNREFUSED); start() serves the same data on the same URL', async () => {
    const name = unique('survivor');
    const expId = await createExperiment(name);
    const runId = await createRun(expId);
    await post('runs/log-metric', { run_id: runId, key: 'loss', value: 0.1, timestamp: 1 });
    const url = server.url;

    await server.stop();
    await expect(fetch(`${url}/health`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    await server.start();

    expect(server.url).toBe(url);
    expect(
      (await get('experiments/get-by-name', { experiment_name: name })).json.experiment.experiment_id,
    ).toBe(expId);
    expect((await get('runs/get', { run_id: runId })).json.run.data.metrics).toEqual([
      { key: 'loss', value: 0.1, timestamp: 1, step: 0 },
    ]);
    expect(server.runsOf(expId)).toHaveLength(1);
    expect(server.runsOf(expId)[0].data.metrics).toEqual([
      { key: 'loss', value: 0.1, timestamp: 1, step: 0 },
    ]);
  });
});

describe('basic auth', () => {
  const secured = new FakeMlflowServer({ auth: { username: 'alice', password: 's3cret' } });
  const basic = (user: string, pass: string): string => `Basic ${b64(`${user}:${pass}`)}`;
  const search = (authorization?: string): Promise<Response> =>
    fetch(`${secured.url}/api/2.0/mlflow/experiments/search`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, ...(authorization ? { Authorization: authorization } : {}) },
      body: '{}',
    });

  beforeAll(async () => {
    await secured.start();
  });
  afterAll(async () => {
    await secured.stop();
  });

  test('no credentials: 401 text/plain with WWW-Authenticate', async () => {
    const res = await search();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="mlflow"');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  test('Bearer tokens and wrong passwords are refused; the right Basic credentials pass', async () => {
    expect((await search('Bearer some-token')).status).toBe(401);
    expect((await search(basic('alice', 'wrong'))).status).toBe(401);
    const ok = await search(basic('alice', 's3cret'));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { experiments: unknown[] }).experiments).toHaveLength(1);
  });

  test('/health stays open; the artifact proxy needs auth too', async () => {
    const health = await fetch(`${secured.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('OK');
    const artifact = await fetch(`${secured.url}/api/2.0/mlflow-artifacts/artifacts?path=0`);
    expect(artifact.status).toBe(401);
  });
});
