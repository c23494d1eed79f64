import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { CliIO } from 'omega-track/internal';
import { runCli } from 'omega-track/internal';

/** What one CLI call gave. */
export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in this process with `env`, collecting what it writes. */
export async function cliIn(
  env: NodeJS.ProcessEnv,
  argv: string[],
  io: Partial<CliIO> = {},
): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    env,
    ...io,
  });
  return { code, out, err };
}

/** The built command (cli/dist/bin.js), as `npx omega-track` runs it. */
export const BIN = path.join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');

/** Runs the built command in a child process. */
export function cliBin(argv: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): CliResult {
  const p = spawnSync(process.execPath, [BIN, ...argv], {
    env: { ...process.env, OMEGA_DEBUG: '', ...env },
    cwd,
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  return { code: p.status ?? -1, out: p.stdout, err: p.stderr };
}

/** A small RFC 4180 parser, to check that CSV output parses back to the rows. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  return rows;
}
