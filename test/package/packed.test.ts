/**
 * omega-track as a user gets it: the publishable packages packed with `npm pack`, installed
 * together into a fresh project outside the repository, then used from ESM, CommonJS, the command
 * line and strict TypeScript (no `skipLibCheck`) without any optional peer installed.
 */
import { execFileSync } from 'node:child_process';
import type * as Esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';
import type { PackedTarball } from './packedInstall';
import { PUBLISHED, installTarballs, node, packAll, repoRoot } from './packedInstall';

jest.setTimeout(240_000);

const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const version = (
  JSON.parse(fs.readFileSync(path.join(repoRoot, 'cli', 'package.json'), 'utf8')) as { version: string }
).version;

let packDir: ReturnType<typeof tempDir>;
let tarballs: PackedTarball[];
let project: string;

beforeAll(() => {
  packDir = tempDir('omega-track-pack-');
  tarballs = packAll(packDir.dir);
  project = installTarballs(tarballs.map((t) => path.join(packDir.dir, t.filename)));
});

afterAll(() => {
  packDir?.cleanup();
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

/** The package.json of a published package as it is in the repository. */
function manifest(folder: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(repoRoot, folder, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
}

/**
 * Writes `source` as `file` into a new folder `name` of the project with a tsconfig of
 * `compilerOptions` (strict, noEmit, Node's types), runs tsc there; resolves with what tsc said
 * ('' when it compiled).
 */
function typeCheck(
  name: string,
  file: string,
  source: string,
  compilerOptions: Record<string, unknown>,
): string {
  const dir = path.join(project, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, file), source);
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, types: ['node'], ...compilerOptions },
      files: [file],
    }),
  );
  try {
    execFileSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
    return '';
  } catch (error) {
    return String((error as { stdout?: string }).stdout);
  }
}

describe('the tarballs', () => {
  test('every publishable package is packed, all at one version', () => {
    expect(tarballs.map((t) => t.name)).toEqual([
      '@omega-track/core',
      '@omega-track/providers',
      '@omega-track/adapters',
      'omega-track',
    ]);
    expect(new Set(tarballs.map((t) => t.version))).toEqual(new Set([version]));
  });

  test.each(PUBLISHED)(
    '%s ships a LICENSE, a README, what its exports name, and source maps that resolve',
    (folder) => {
      const tarball = tarballs[PUBLISHED.indexOf(folder)];
      const files = new Set(tarball.files.map((f) => f.path));
      expect(files).toContain('LICENSE');
      expect(files).toContain('README.md');
      expect([...files].filter((f) => f.endsWith('.tsbuildinfo') || f.includes('node_modules/'))).toEqual([]);
      const m = manifest(folder);
      expect(m.engines).toEqual({ node: '>=20' });
      expect(m.license).toBe('Apache-2.0');
      if (String(m.name).startsWith('@')) expect(m.publishConfig).toEqual({ access: 'public' });
      const targets: string[] = [];
      const walk = (v: unknown): void => {
        if (typeof v === 'string') targets.push(v.replace(/^\.\//, ''));
        else if (v && typeof v === 'object') Object.values(v).forEach(walk);
      };
      walk(m.exports);
      expect(targets.length).toBeGreaterThan(0);
      for (const target of targets) expect(files).toContain(target);
    },
  );

  test.each(PUBLISHED)(
    'every source map comment in %s names a shipped map whose sources are shipped',
    (folder) => {
      const tarball = tarballs[PUBLISHED.indexOf(folder)];
      const installed = path.join(project, 'node_modules', tarball.name);
      const unresolved: string[] = [];
      let maps = 0;
      for (const { path: file } of tarball.files) {
        if (!/\.(js|d\.ts)$/.test(file)) continue;
        const text = fs.readFileSync(path.join(installed, file), 'utf8');
        const comment = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text);
        if (!comment) continue;
        const mapFile = path.join(path.dirname(path.join(installed, file)), comment[1]);
        if (!fs.existsSync(mapFile)) {
          unresolved.push(`${file} -> ${comment[1]}`);
          continue;
        }
        maps++;
        const map = JSON.parse(fs.readFileSync(mapFile, 'utf8')) as {
          sources: string[];
          sourceRoot?: string;
        };
        for (const source of map.sources) {
          const sourceFile = path.join(path.dirname(mapFile), map.sourceRoot ?? '', source);
          if (!fs.existsSync(sourceFile)) unresolved.push(`${comment[1]} -> ${source}`);
        }
      }
      expect(maps).toBeGreaterThan(0);
      expect(unresolved).toEqual([]);
    },
  );

  test('the LICENSE shipped is the Apache License 2.0 of the repository', () => {
    const license = fs.readFileSync(path.join(project, 'node_modules', 'omega-track', 'LICENSE'), 'utf8');
    expect(license).toMatch(/Apache License\s+Version 2\.0/);
    expect(license).toBe(fs.readFileSync(path.join(repoRoot, 'LICENSE'), 'utf8'));
  });
});

describe('a fresh project that installed the tarballs', () => {
  const store = (): string => `sqlite:${path.join(project, '.omega', 'omega.db')}`;

  test('no optional peer came along', () => {
    for (const peer of [
      'bullmq',
      'mongodb',
      'pg',
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-node',
      'hyparquet',
      'hyparquet-writer',
    ])
      expect(fs.existsSync(path.join(project, 'node_modules', peer))).toBe(false);
  });

  test('ESM: named imports log a run and read it back', () => {
    fs.writeFileSync(
      path.join(project, 'esm.mjs'),
      `import { omega, TrackingInputError } from 'omega-track';
const om = omega();
const exp = om.runtime.experiment('esm');
await exp.run(async (e) => {
  e.logParam('lr', 0.01);
  for (let i = 0; i < 5; i++) e.logMetric('loss', 1 / (i + 1), i);
});
let refused = false;
try { om.runtime.experiment('esm').logMetric('', 1); } catch (err) { refused = err instanceof TrackingInputError; }
const rows = await om.runtime.experiment('esm').data({ run: -1, event: 'metric' });
console.log(JSON.stringify({ n: rows.length, last: rows.at(-1).value, refused }));
await om.close();
`,
    );
    const out = JSON.parse(node(project, ['esm.mjs'], { OMEGA_STORE: store() })) as Record<string, unknown>;
    expect(out).toEqual({ n: 5, last: 0.2, refused: true });
  });

  test('CommonJS: require logs and reads a run, and loads no optional peer, no profiler, no UI server', () => {
    fs.writeFileSync(
      path.join(project, 'cjs.cjs'),
      `const { omega } = require('omega-track');
const loaded = () => Object.keys(require.cache).filter((f) =>
  /node_modules[\\\\/](@tensorflow|bullmq|mongodb|pg|systeminformation)[\\\\/]|[\\\\/]ui[\\\\/]server[\\\\/]/.test(f));
const atLoad = loaded();
(async () => {
  const om = omega();
  await om.runtime.experiment('cjs').run(async (e) => e.logMetrics({ acc: 0.9, loss: 0.1 }, 1));
  const [run] = await om.runtime.experiment('cjs').runs();
  console.log(JSON.stringify({ atLoad, status: run.status, acc: run.metrics.acc.last }));
  await om.close();
})();
`,
    );
    const out = JSON.parse(node(project, ['cjs.cjs'], { OMEGA_STORE: store() })) as Record<string, unknown>;
    expect(out).toEqual({ atLoad: [], status: 'STOPPED', acc: 0.9 });
  });

  test('the command line: --version, -V and runs', () => {
    const bin = path.join(project, 'node_modules', '.bin', 'omega-track');
    const run = (...args: string[]): string =>
      execFileSync(bin, args, {
        cwd: project,
        encoding: 'utf8',
        env: { ...process.env, OMEGA_STORE: store() },
      });
    expect(run('--version').trim()).toBe(version);
    expect(run('-V').trim()).toBe(version);
    node(
      project,
      [
        '-e',
        `const { omega } = require('omega-track'); const om = omega();
om.runtime.experiment('cli').run(async (e) => e.logMetric('acc', 0.5)).then(() => om.close());`,
      ],
      { OMEGA_STORE: store() },
    );
    expect(run('runs', 'cli')).toMatch(/^\s*1\s+.*STOPPED/m);
    // export and import: JSON lines need no optional peer; Parquet names its install command
    expect(run('export', 'cli', '--format', 'jsonl', '--out', 'exported')).toMatch(/^exported 1 run /);
    expect(run('import', 'exported', '--store', `sqlite:${path.join(project, 'copy.db')}`)).toMatch(
      /^imported 1 run /,
    );
    let parquet = '';
    try {
      run('export', 'cli', '--format', 'parquet', '--out', 'exported-parquet');
    } catch (error) {
      parquet = String((error as { stderr?: unknown }).stderr);
    }
    expect(parquet).toMatch(/npm install hyparquet-writer/);
    expect(fs.existsSync(path.join(project, 'exported-parquet'))).toBe(false);
  });

  const consumer = `import { omega, TensorflowCallback, TrackingError, OmegaTrackingProxy } from 'omega-track';
import type { RunInfo, TrackingEvent, Store, ObjectBackend } from 'omega-track';

export async function main(): Promise<void> {
  const om = omega({ store: 'memory:' });
  const exp = om.runtime.experiment('typed', { provider: 'profiling' });
  exp.profiler.interval = 5;
  exp.maxBuffer = 100;
  await exp.run(async (e: OmegaTrackingProxy) => {
    e.logMetric('acc', 0.5);
    const callback = new TensorflowCallback({ updateFreq: 'batch' });
    void callback;
  });
  {
    await using scoped = await om.runtime.experiment('typed').enter();
    scoped.logParam('lr', 0.1);
  }
  const weights = await exp.restoreArtifact<number[]>('weights');
  const first: number | undefined = weights?.[0];
  const values: string[] = await exp.restoreData<string>('notes');
  const prediction = await om.runtime.model('m').predict<number[][]>([[1, 2]]).catch(() => [[0]]);
  const rows: TrackingEvent[] = await exp.data();
  const runs: RunInfo[] = await exp.runs();
  const store: Store = om.store;
  const backend: ObjectBackend | undefined = undefined;
  console.log(first, values.length, prediction[0][0], rows.length, runs.length, store, backend);
  if (!(new TrackingError('x') instanceof Error)) throw new Error('unreachable');
  await om.close();
}
`;

  test.each([
    ['node16', { module: 'node16', moduleResolution: 'node16' }, 'consumer.ts'],
    ['node16 (ESM)', { module: 'node16', moduleResolution: 'node16' }, 'consumer.mts'],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler' }, 'consumer.ts'],
  ])(
    'strict TypeScript without skipLibCheck compiles under %s resolution without bullmq, mongodb, pg or tfjs',
    (label, resolution, file) => {
      const out = typeCheck(`ts-${label.replace(/\W+/g, '-')}`, file, consumer, {
        ...resolution,
        target: 'ES2022',
        lib: ['ES2022', 'ESNext.Disposable'],
        skipLibCheck: false,
      });
      expect(out).toBe('');
    },
  );

  test('omega-track/browser: a bundler takes the browser client from the package (an ES module that imports nothing), and a strict TypeScript project for the browser (DOM lib) type-checks against it', () => {
    const dir = path.join(project, 'browser-app');
    const app = `import { omega, TensorflowCallback, StoreError } from 'omega-track/browser';
const om = omega({ store: 'https://tracker.example', token: 'omt_x' });
const exp = om.runtime.experiment('demo/page');
export async function train(): Promise<number | undefined> {
  return exp.run(async (e) => {
    e.logParam('lr', 0.1);
    e.logMetric('loss', 0.5, 0);
    e.logArtifact(new Blob(['x'], { type: 'text/plain' }), 'note');
    void new TensorflowCallback(e);
    return e.currentRun;
  });
}
export const isStoreError = (e: unknown): boolean => e instanceof StoreError;
`;
    const out = typeCheck('browser-app', 'app.ts', app, {
      module: 'esnext',
      moduleResolution: 'bundler',
      target: 'ES2022',
      lib: ['ES2022', 'DOM', 'DOM.Iterable'],
      skipLibCheck: false,
    });
    expect(out).toBe('');
    // what a bundler resolves: the prebuilt ES module of the package, not its Node entry
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof Esbuild;
    const result = esbuild.buildSync({
      absWorkingDir: dir,
      entryPoints: ['app.ts'],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      metafile: true,
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const meta = result.metafile;
    const inputs = Object.keys(meta.inputs);
    expect(inputs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/node_modules\/omega-track\/dist\/browser\/omega-track\.browser\.mjs$/),
      ]),
    );
    expect(inputs.filter((i) => !/app\.ts$|omega-track\.browser\.mjs$/.test(i))).toEqual([]);
  });

  test('a wrong type is still caught (the check above can fail)', () => {
    const out = typeCheck(
      'ts-negative',
      'wrong.ts',
      `import { omega } from 'omega-track';\nomega().runtime.experiment('x').profiler.interval = 5;\n`,
      { module: 'node16', moduleResolution: 'node16' },
    );
    expect(out).toMatch(/Property 'profiler' does not exist/);
  });
});
