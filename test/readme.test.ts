/**
 * The README's programs run as written: every JavaScript or TypeScript block in README.md is a
 * file under examples/readme/, included verbatim (`<!-- example: path -->` before the block), and
 * each file — compiled by `npm run build` as a user's ES module would be — runs here.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './helpers/tmp';
import { FakeMlflowServer } from './mlflow/FakeMlflowServer';

const root = path.join(__dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

interface Block {
  lang: string;
  code: string;
  example?: string;
  line: number;
}

/** The fenced code blocks of the README, with the example file each one says it is. */
function codeBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    const before = text.slice(0, m.index).trimEnd();
    const marker = /<!-- example: (\S+) -->$/.exec(before);
    blocks.push({
      lang: m[1],
      code: m[2],
      example: marker?.[1],
      line: text.slice(0, m.index).split('\n').length,
    });
  }
  return blocks;
}

const programs = codeBlocks(readme).filter((b) => ['js', 'ts', 'mjs', 'mts'].includes(b.lang));
const examples = programs.flatMap((b) => (b.example ? [b.example] : []));

describe('README code blocks', () => {
  test('there are programs in the README, and every one names the file it is', () => {
    expect(programs.length).toBeGreaterThanOrEqual(9);
    expect(programs.filter((b) => !b.example).map((b) => `README.md:${b.line}`)).toEqual([]);
  });

  test.each(programs.filter((b) => b.example).map((b) => [b.example!, b] as const))(
    '%s is in the README verbatim',
    (file, block) => {
      expect(block.code).toBe(fs.readFileSync(path.join(root, file), 'utf8'));
    },
  );

  test('every file under examples/readme is in the README', () => {
    const files = fs
      .readdirSync(path.join(root, 'examples', 'readme'))
      .filter((f) => /\.m?[jt]s$/.test(f))
      .map((f) => `examples/readme/${f}`);
    expect([...new Set(examples)].sort()).toEqual(files.sort());
  });
});

describe('README programs run', () => {
  const run = promisify(execFile);
  let mlflow: FakeMlflowServer;

  beforeAll(async () => {
    mlflow = new FakeMlflowServer();
    await mlflow.start();
  });
  afterAll(async () => {
    await mlflow?.stop();
  });

  /** Runs a README program (compiled .mts from dist/, .mjs as is) in a fresh folder. */
  async function runProgram(file: string): Promise<string> {
    const compiled = file.endsWith('.mts')
      ? path.join(root, 'examples', 'readme', 'dist', path.basename(file).replace(/\.mts$/, '.mjs'))
      : path.join(root, file);
    const tmp = tempDir('omega-track-readme-');
    try {
      const { stdout } = await run(process.execPath, [compiled], {
        cwd: tmp.dir,
        env: {
          ...process.env,
          OMEGA_STORE: `sqlite:${path.join(tmp.dir, 'omega.db')}`,
          MLFLOW_TRACKING_URI: mlflow.url,
          OMEGA_MLFLOW_SPOOL: path.join(tmp.dir, 'spool.db'),
        },
        timeout: 120_000,
      });
      return stdout;
    } finally {
      tmp.cleanup();
    }
  }

  const expected: Record<string, RegExp> = {
    'examples/readme/first-run.mjs':
      /run 1: STOPPED, last loss 0\.1[\s\S]*count: 10[\s\S]*weights: \[ 1, 2 \]/,
    'examples/readme/train.mts':
      /run 1: val_acc by epoch( \d\.\d{3}){1,10}\n[2-9]\d* samples of process_rss\nthe restored model says class [01] for \[1, 0\]/,
    'examples/readme/api.mts': /^10 metric rows; loss mean 0\.293$/m,
    'examples/readme/tensorflow.mts': /^run 2: loss \d\.\d+ epochs 2$/m,
    'examples/readme/profiling.mts': /^[2-9]\d* samples of process_rss$/m,
    'examples/readme/mlflow.mts': /start:start.*param:lr.*metric:loss.*stop:stop/,
    'examples/readme/search.mts': /\[ 'baseline' \] \[ 'sweep-3b' \]/,
    'examples/readme/runtime.mts': /^5 \{ loss: [\d.e+-]+, mae: [\d.e+-]+ \} 100$/m,
    'examples/readme/backend.mts': /^\[ 4, 4 \] 0$/m,
    'examples/readme/sweep.mts':
      /^12 trials; best \{ lr: [\d.e-]+, units: (4|16) \} sweep run 1\n4 grid trials; best \{ learningRate: [\d.]+, epochs: [24] \}$/m,
  };

  test('every README program has an expectation here', () => {
    expect(Object.keys(expected).sort()).toEqual([...new Set(examples)].sort());
  });

  test.each(Object.entries(expected))('%s runs and prints what it should', async (file, pattern) => {
    expect(await runProgram(file)).toMatch(pattern);
  });
});
