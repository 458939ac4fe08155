/**
 * @module cli/program
 * The whole command line surface in one place: commands, arguments, options and help text.
 * Each action is loaded when it runs (`lazy`), so `--help` and a mistyped flag load commander
 * and this file only — not the protocol package, zod, csv-parse or cli-progress.
 */
import { Command } from 'commander';
import type { CliIo, Ctx, GlobalOptions } from './context.ts';

type Action = (c: Ctx, ...args: never[]) => unknown;
/** An action that loads its module when it runs and calls `name` from it with ctx first. */
type Lazy = <M, K extends keyof M>(load: () => Promise<M>, name: K) => (...args: unknown[]) => Promise<void>;

/** Each group adds its commands to the program; `--help` lists them in this order. */
const commandGroups: ((program: Command, lazy: Lazy) => void)[] = [
  keyCommands,
  registryCommands,
  credentialCommands,
  checkCommands,
  evaluationCommands,
  rolloutCommands,
];

/** `json`: commander's own error output is left out; run() prints the error as JSON instead. */
export function buildProgram(io: CliIo, version: string, { json }: { json: boolean }): Command {
  const program = new Command('modelfleet');
  /** Commander calls actions with (...arguments, options, command); the implementation gets ctx first. */
  const lazy: Lazy =
    (load, name) =>
    async (...args) => {
      const fn = (await load())[name] as Action;
      await fn({ io, globals: program.opts<GlobalOptions>() }, ...(args.slice(0, -1) as never[]));
    };
  configureGlobals(program, io, version, json);
  for (const add of commandGroups) add(program, lazy);
  return program;
}

/** Description, version, the global options, exit codes in the help, and where commander writes. */
function configureGlobals(program: Command, io: CliIo, version: string, json: boolean): void {
  program
    .description('publish, sign, verify and manage on-device models')
    .version(version, '-V, --version')
    .option(
      '--endpoint <url>',
      'control plane URL (env MODELFLEET_ENDPOINT; default from .modelfleet/dev.json or http://127.0.0.1:8787)',
    )
    .option(
      '--token <token>',
      'operator token (env MODELFLEET_TOKEN; default from .modelfleet/dev.json for its endpoint)',
    )
    .option('--json', 'machine-readable output: results and errors as JSON on stdout')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 internal, 2 usage, 3 input, 4 auth, 5 refused, 6 rejected, 7 verification (verify, scrub), 8 unavailable.',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s.trimEnd()),
      writeErr: json ? () => {} : (s) => io.stderr(s.trimEnd()),
    });
}

function keyCommands(program: Command, lazy: Lazy): void {
  const keys = () => import('./commands/keys.ts');
  const keysInit = () => import('./commands/keys-init.ts');
  const k = program.command('keys').description('signing keys and the root of trust');
  k.command('init')
    .description(
      'create the key set and root v1 once (later runs keep it); --upload installs root v1 on the control plane',
    )
    .option('--dir <dir>', 'where root keys, root.json and secrets.json go', '.modelfleet')
    .option('--dev-vars <file>', 'dotenv file for `wrangler dev` (local Worker secrets)', '.dev.vars')
    .option('--alg <alg>', 'ecdsa-p256-sha256 or ed25519', 'ecdsa-p256-sha256')
    .option('--expires-days <n>', 'root lifetime in days', '365')
    .option(
      '--upload',
      "install the key set's roots on the control plane (token: --token, or ADMIN_TOKEN from secrets.json)",
    )
    .option('--force', 'generate a new key set even if one exists (the old one is moved to <dir>/replaced/)')
    .action(lazy(keysInit, 'keysInit'));
  k.command('rotate-root')
    .description('replace the root keys: root v(n+1) signed by the old and the new root keys')
    .option('--dir <dir>', 'where root keys and root.json are', '.modelfleet')
    .option('--expires-days <n>', 'lifetime of the new root in days', '365')
    .option('--upload', 'install the new root on the control plane')
    .action(lazy(keys, 'rotateRoot'));
  k.command('list').description('show the current root and the online key ids').action(lazy(keys, 'listKeys'));
}

/** publish, models, versions and alias: what the registry holds. */
function registryCommands(program: Command, lazy: Lazy): void {
  const registry = () => import('./commands/registry.ts');
  program
    .command('publish <modelDir>')
    .description('validate, sign and store a TF.js model directory (model.json + weight files)')
    .requiredOption('--model <name>', 'model name in the registry')
    .option(
      '--metrics <file>',
      'metrics JSON: { evalSetDigest, values: { name: number }, explanations?: { method: "permutation", metric, evalSetDigest, features: { name: number } } }',
    )
    .option('--params <file>', 'training parameters JSON')
    .option('--golden <file>', 'golden examples JSON: { examples: [{ inputs, outputs }], tolerance? }')
    .option('--baseline <file>', 'monitoring baseline JSON (feature bins, vocabularies)')
    .option('--io <file>', 'declared input/output schema JSON (checked against the model)')
    .option('--lineage <file>', 'lineage JSON: { dataDigest, codeCommit, parentVersion }')
    .option('--label <label>', 'a human label for the version')
    .option('--alias <alias>', 'point this alias (e.g. champion) at the new version')
    .option('--create', 'create the model if it does not exist')
    .action(lazy(() => import('./commands/publish.ts'), 'publish'));

  program
    .command('models')
    .description('models')
    .command('create <name>')
    .option('--description <text>', 'what the model does')
    .action(lazy(registry, 'createModel'));
  const versions = program.command('versions').description('model versions');
  versions.command('list').requiredOption('--model <name>', 'model name').action(lazy(registry, 'listVersions'));
  versions
    .command('show <version>')
    .description('one version: status, manifest and what validation ran')
    .requiredOption('--model <name>', 'model name')
    .action(lazy(registry, 'showVersion'));
  program
    .command('alias')
    .description('aliases (champion, challenger, …)')
    .command('set <alias> <version>')
    .requiredOption('--model <name>', 'model name')
    .option('--reason <text>', 'recorded in the audit log')
    .action(lazy(registry, 'setAlias'));
}

/** Operator tokens and device apps with their keys. */
function credentialCommands(program: Command, lazy: Lazy): void {
  const credentials = () => import('./commands/credentials.ts');
  const tokens = program.command('tokens').description('operator tokens');
  tokens
    .command('create')
    .requiredOption('--role <role>', 'viewer | publisher | operator | admin')
    .option('--label <label>', 'who or what uses it')
    .option('--expires-in <seconds>', 'lifetime in seconds')
    .action(lazy(credentials, 'createToken'));
  tokens
    .command('list')
    .description('tokens with their role, expiry and revocation (never the secrets)')
    .action(lazy(credentials, 'listTokens'));
  tokens
    .command('revoke <id>')
    .description('end a token now, for the API and the console (its sessions end too)')
    .option('--reason <text>', 'recorded in the audit log')
    .action(lazy(credentials, 'revokeToken'));
  const apps = program.command('apps').description('device apps and their keys');
  apps
    .command('create')
    .requiredOption('--name <name>', 'app name')
    .option('--models <list>', 'comma-separated model names, or *', '*')
    .action(lazy(credentials, 'createApp'));
  apps
    .command('keys <appId>')
    .description("an app's device keys: which work and until when")
    .action(lazy(credentials, 'listAppKeys'));
  apps
    .command('rotate-key <appId>')
    .description('a new device key; the old ones keep working for the grace period, then are refused')
    .option('--grace-seconds <n>', 'how long the old keys keep working (default 7 days; 0 ends them now)')
    .option('--reason <text>', 'recorded in the audit log')
    .action(lazy(credentials, 'rotateAppKey'));
  apps
    .command('revoke-key <appId> <keyId>')
    .description('end one device key now')
    .option('--reason <text>', 'recorded in the audit log')
    .action(lazy(credentials, 'revokeAppKey'));
}

/** verify and scrub: integrity checks, from a device's side and of the stored objects. */
function checkCommands(program: Command, lazy: Lazy): void {
  program
    .command('verify <target>')
    .description('verify a manifest (by digest, or model[:alias] via a ticket) and all its chunks, as a device would')
    .option('--root <file>', 'the pinned root.json', '.modelfleet/root.json')
    .option('--app-key <key>', 'device app key, for model[:alias] targets (env MODELFLEET_APP_KEY)')
    .action(lazy(() => import('./commands/verify.ts'), 'verify'));

  program
    .command('scrub')
    .description(
      'check every stored chunk and manifest of active versions against its digest; --repair re-sends chunks from local model files',
    )
    .option(
      '--repair <dirs...>',
      'model directories (model.json + weight files) holding correct copies of broken chunks',
    )
    .option('--page-size <n>', 'objects the control plane checks per request (1–100)', '25')
    .action(lazy(() => import('./commands/scrub.ts'), 'scrub'));
}

/** Monitoring baselines, evaluation sets and scoring a version on them. */
function evaluationCommands(program: Command, lazy: Lazy): void {
  const evaluation = () => import('./commands/evaluate.ts');
  program
    .command('baseline [data]')
    .description(
      'compute a monitoring baseline from training data (.csv with header, or .jsonl), or from training images (--images)',
    )
    .option(
      '--schema <file>',
      'JSON: { "features": [{ "name": "amount", "kind": "numeric" }, …] } in model input order (with data)',
    )
    .option(
      '--images <dir>',
      'instead of data: JPEG/PNG training images (subfolders too); monitors their statistics (@input.<name>.brightness, …)',
    )
    .option('--input <name>', 'with --images: the model input the images feed')
    .option(
      '--stats <list>',
      'with --images: which statistics (default all: mean_r,mean_g,mean_b,std_r,std_g,std_b,brightness,contrast,width,height)',
    )
    .option('--predictions <file>', "the model's outputs on validation data (.jsonl of probability arrays)")
    .option('--bins <n>', 'equiprobable bins per numeric feature', '10')
    .option('--max-vocabulary <n>', 'most frequent values kept per categorical feature (the rest is OTHER)', '64')
    .option('--out <file>', 'write the baseline here (default: stdout)')
    .action(lazy(() => import('./commands/baseline.ts'), 'baseline'));

  const es = program
    .command('eval-set')
    .description("a model's evaluation set, on which the control plane scores versions itself");
  es.command('put <model> <file>')
    .description(
      'register (replace) the set: JSON { "inputs": [row, …], "labels": [class, …] }, one row per label, rows shaped like the model\'s input without the batch',
    )
    .option('--label <text>', 'a description of the set (e.g. "holdout 2026-11")')
    .action(lazy(evaluation, 'putEvalSet'));
  es.command('show <model>')
    .description('the current set and the metrics computed on it')
    .action(lazy(evaluation, 'showEvalSet'));
  program
    .command('evaluate <model> <version>')
    .description("score a version on the model's evaluation set, in the control plane (accuracy, log loss)")
    .action(lazy(evaluation, 'evaluate'));
}

function rolloutCommands(program: Command, lazy: Lazy): void {
  const rollout = () => import('./commands/rollout.ts');
  const r = program.command('rollout').description('staged rollouts of a challenger version');
  r.command('create')
    .requiredOption('--model <name>', 'model name')
    .requiredOption('--challenger <version>', 'version to roll out')
    .option(
      '--plan <file>',
      'RolloutPlan JSON (steps, analysis, targeting, salt); omitted steps and tolerances are derived from the fleet',
    )
    .option('--draft', 'create without starting')
    .option('--reason <text>', 'recorded in the audit log')
    .option(
      '--dry-run',
      "print the plan's power on the fleet (devices per arm, MDE, time to decision) and create nothing",
    )
    .action(lazy(rollout, 'createRollout'));
  r.command('status <id>').action(lazy(rollout, 'rolloutStatus'));
  r.command('list').requiredOption('--model <name>', 'model name').action(lazy(rollout, 'listRollouts'));
  r.command('policy')
    .description('what a publisher (CI) may start on its own; --set replaces it (operator)')
    .requiredOption('--model <name>', 'model name')
    .option(
      '--set <file>',
      'RolloutPolicy JSON (minSteps, maxFirstStepPercent, minBakeSeconds, requiredMetrics, gate, publisherMayStart)',
    )
    .action(lazy(rollout, 'rolloutPolicy'));
  for (const action of ['promote', 'pause', 'resume', 'abort', 'kill'] as const) {
    r.command(`${action} <id>`)
      .option('--reason <text>', 'recorded in the audit log')
      .description(
        action === 'kill' ? 'kill switch: the whole fleet returns to the champion now' : `${action} the rollout`,
      )
      .action(async (id: string, o: { reason?: string }, command: Command) =>
        lazy(rollout, 'rolloutAction')(action, id, o, command),
      );
  }
}
