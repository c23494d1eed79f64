/** `omega-track token`: makes, lists and revokes the tokens of `omega-track server`, in its store. */
import type { Store } from '@omega-track/core';
import { TrackingError, TrackingInputError, openStore } from '@omega-track/core';
import { redactUrls } from '@omega-track/core/internal';
import { TokenRegistry } from '../server/tokens/TokenRegistry';
import {
  validateExperimentsPattern,
  validateTokenName,
  validateTokenRole,
} from '../server/tokens/tokenTypes';
import type { TokenRole } from '../server/tokens/tokenTypes';
import type { Command, CommandContext } from './command';
import type { OptionValues } from './options';
import { stringOption } from './options';
import { safeLine, writeRows } from './output';
import { UsageError } from './UsageError';

const USAGE = [
  'omega-track token create NAME --role read|write|admin [--experiments GLOB]',
  'omega-track token list [--json]',
  'omega-track token revoke NAME',
];

/** Which options each action takes: any other is a usage error, never silently ignored. */
const ACTION_OPTIONS: Record<string, readonly string[]> = {
  create: ['role', 'experiments'],
  list: ['json'],
  revoke: [],
};

/** A value of the command line checked by `check`: what it refuses is a usage error (exit 2). */
function usageChecked<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof TrackingInputError && !(error instanceof UsageError))
      throw new UsageError(error.message);
    throw error;
  }
}

/** Refuses the options given that `action` does not take. */
function onlyOptionsOf(action: string, values: OptionValues): void {
  for (const option of ['role', 'experiments', 'json'])
    if (values[option] !== undefined && values[option] !== false && !ACTION_OPTIONS[action].includes(option))
      throw new UsageError(`--${option} is not for 'token ${action}': ${USAGE.join(' | ')}`);
}

/**
 * The server's own store: tokens are kept in it (bucket `system`), which no server serves, so
 * they are made where the store is, never through a server.
 */
function openServerStore(url: string, create: boolean): Store {
  if (/^https?:\/\//i.test(url))
    throw new UsageError(
      `'${redactUrls(url)}' is a server: tokens are made on the server's own store — run this where that store is, with --store sqlite:… or postgres://… (the server's --store)`,
    );
  return openStore(url, { create });
}

/** What `token create` was asked for, checked before the store is opened (a refusal makes no store). */
interface CreateRequest {
  role: TokenRole;
  experiments: string | null;
}

function createRequest(values: OptionValues): CreateRequest {
  const roleText = stringOption(values, 'role');
  if (roleText === undefined) throw new UsageError(`name the role with --role read|write|admin: ${USAGE[0]}`);
  const role = usageChecked(() => validateTokenRole(roleText));
  const given = stringOption(values, 'experiments');
  const experiments = given === undefined ? null : usageChecked(() => validateExperimentsPattern(given));
  return { role, experiments };
}

async function create(
  ctx: CommandContext,
  registry: TokenRegistry,
  name: string,
  { role, experiments }: CreateRequest,
): Promise<number> {
  const token = await registry.create(name, role, { experiments });
  // only the token on stdout (`TOKEN=$(omega-track token create …)`); the note on stderr
  ctx.out.write(`${token}\n`);
  await ctx.out.flush();
  ctx.io.stderr(
    safeLine(
      `token '${name}' created (role ${role}, experiments ${experiments ?? '* (all)'}). It is shown this once: keep it now — only its hash is stored`,
    ) + '\n',
  );
  return 0;
}

async function list(ctx: CommandContext, registry: TokenRegistry): Promise<number> {
  const tokens = await registry.list();
  if (ctx.values.json === true) {
    ctx.out.write(
      JSON.stringify(
        tokens.map((t) => ({ ...t, created: t.created.toISOString() })),
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  if (tokens.length === 0) {
    ctx.io.stderr('no tokens: make one with omega-track token create NAME --role read|write|admin\n');
    return 0;
  }
  const rows = tokens.map((t) => ({ ...t, experiments: t.experiments ?? '*' }));
  await writeRows(ctx.out, rows, 'table', ['name', 'role', 'experiments', 'created']);
  return 0;
}

async function revoke(ctx: CommandContext, registry: TokenRegistry, name: string): Promise<number> {
  if (!(await registry.revoke(name)))
    throw new TrackingError(
      `no token named '${name}' in ${redactUrls(ctx.storeUrl)}: omega-track token list shows them`,
    );
  ctx.out.write(safeLine(`revoked token '${name}'`) + '\n');
  return 0;
}

/** Makes, lists and revokes server tokens, directly in the server's store. */
export const tokenCommand: Command = {
  usage: USAGE.join('\n       '),
  args: '[action] [name]',
  summary: "make, list and revoke the tokens of omega-track server (in the server's store)",
  options: {
    role: { type: 'string' },
    experiments: { type: 'string' },
    json: { type: 'boolean' },
  },
  help: [
    '  create NAME          make a token and print it, once (only its hash is stored); a name in',
    '                       use is refused: revoke it first. NAME: 1-64 of A-Z a-z 0-9 . _ -',
    '  --role ROLE          read (sees), write (also logs) or admin (also deletes, manages tokens)',
    '  --experiments GLOB   only experiments whose name matches, e.g. demo/* (default: all)',
    '  list                 the tokens: name, role, experiments, created (never the token)',
    '  --json               list as JSON',
    '  revoke NAME          remove a token: the server refuses it within a second',
  ],
  // opened here: `create` may make the store, `list` and `revoke` never do
  store: 'none',
  async run(ctx) {
    const [action, nameArg] = ctx.args;
    if (action === undefined) throw new UsageError(`name the action: ${USAGE.join(' | ')}`, true);
    if (!Object.hasOwn(ACTION_OPTIONS, action))
      throw new UsageError(`unknown action '${action}': create, list or revoke`, true);
    onlyOptionsOf(action, ctx.values);
    if (action === 'list' && nameArg !== undefined) throw new UsageError(`unexpected argument '${nameArg}'`);
    let name = '';
    if (action !== 'list') {
      if (nameArg === undefined)
        throw new UsageError(`name the token: ${USAGE[action === 'create' ? 0 : 2]}`);
      name = usageChecked(() => validateTokenName(nameArg));
    }
    // everything given is checked before the store is opened: a refused command line makes no store
    const request = action === 'create' ? createRequest(ctx.values) : undefined;
    const store = openServerStore(ctx.storeUrl, action === 'create');
    try {
      const registry = new TokenRegistry(store);
      if (request) return await create(ctx, registry, name, request);
      if (action === 'list') return await list(ctx, registry);
      return await revoke(ctx, registry, name);
    } finally {
      await store.close();
    }
  },
};
