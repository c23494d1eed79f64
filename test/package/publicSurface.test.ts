/**
 * The public surface: `omega-track` re-exports the API of the three scoped packages, each
 * `/internal` entry holds only what its root does not, and loading the root loads no internal
 * plumbing that a user could mistake for API (issue 20, point 4).
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.join(__dirname, '..', '..');

/** The names an entry file exports (all of them are explicit). */
function exportedNames(file: string): Set<string> {
  const src = ts.createSourceFile(
    file,
    fs.readFileSync(path.join(root, file), 'utf8'),
    ts.ScriptTarget.Latest,
  );
  const names = new Set<string>();
  for (const st of src.statements)
    if (ts.isExportDeclaration(st) && st.exportClause && ts.isNamedExports(st.exportClause))
      for (const el of st.exportClause.elements) names.add(el.name.text);
  return names;
}

const PACKAGES = ['core', 'providers', 'adapters', 'cli'];

test('omega-track exports every name of the public entries of core, providers and adapters', () => {
  const cli = exportedNames('cli/src/index.ts');
  const missing = ['core', 'providers', 'adapters'].flatMap((p) =>
    [...exportedNames(`${p}/src/index.ts`)].filter((n) => !cli.has(n)).map((n) => `${p}: ${n}`),
  );
  expect(missing).toEqual([]);
  for (const api of [
    'omega',
    'Omega',
    'TrackingProvider',
    'OmegaTrackingProxy',
    'TrackingError',
    'TensorflowCallback',
    'autolog',
    'startUiServer',
  ])
    expect(cli).toContain(api);
});

test.each(PACKAGES)('%s/internal lists only what its root entry does not', (p) => {
  const pub = exportedNames(`${p}/src/index.ts`);
  expect([...exportedNames(`${p}/src/internal.ts`)].filter((n) => pub.has(n))).toEqual([]);
});

test.each([
  ['core', ['encodeChunk', 'SqliteStore', 'MongoStore', 'resolveQuery', 'RedisExecutor', 'processRedisJob']],
  ['providers', ['MlflowClient', 'MlflowSpool', 'SystemSampler', 'chunkBatch']],
  ['adapters', ['loadTfjs', 'TfjsLayersBackend', 'isLayersModel']],
  ['cli', ['runCli', 'minMaxPreselect', 'downsampleSeries', 'encodeChunk', 'SqliteStore']],
] as const)('%s keeps its plumbing behind /internal', (p, internals) => {
  const pub = exportedNames(`${p}/src/index.ts`);
  const internal = exportedNames(`${p}/src/internal.ts`);
  for (const name of internals) {
    expect(pub).not.toContain(name);
    expect(internal).toContain(name);
  }
});
