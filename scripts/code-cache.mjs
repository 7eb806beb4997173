// The V8 code caches of the bundles in dist/ (src/cli/code-cache.ts says why and how they are
// kept sound). Each bundle is stamped with the sha256 of its content, then each command runs
// twice (scripts/code-cache-train.cjs) in a copy of examples/python-hello, with a cache
// directory of its own, and what V8 compiled for the second run is written beside the bundle:
// what a repeated command runs (`osv plan` again answers its symbol check from its cache, and
// its code cache does not carry the check: a cache costs in proportion to what it holds). A
// command that fails still leaves its cache (what it compiled until then). Run by `npm run
// build` last.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Module from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { Script } from 'node:vm';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const { STAMP, cacheBytes, cacheFileOf, stampOf } = await import('../dist/start.cjs').then((m) => m.default);
const { COMMAND_NAMES } = await import('../dist/cli/command-line.js');

// Commands run as users run them most (in the python example); the others are cached as far as
// `osv NAME --help` compiles them (their top level).
const TRAINING = {
  validate: ['validate'],
  config: ['config'],
  plan: ['plan'],
  manifest: ['manifest'],
  check: ['check'],
  why: ['why', '/usr/bin/python3'],
  schema: ['schema'],
  resolve: ['resolve', process.execPath],
  // A push that finds no build (nothing is built here): dist/fast-push.cjs hands over to the full
  // path, whose build stops at once at a kernel that is not there (no download). This trains the
  // full path's start; fast-push.cjs's own cache is made eagerly afterwards (eagerCache). Port 1
  // refuses at once.
  push: ['push', '127.0.0.1:1/osv-up/code-cache:1', '-q'],
};
/** The environment of a training run, where it differs. */
const TRAINING_ENV = { push: { OSV_KERNEL: 'no-kernel-here' } };

/**
 * A cache holding every function of `file`, compiled eagerly: for dist/fast-push.cjs, whose own
 * path (a push of an up-to-date build) no training run here can take, with no build and no
 * registry. Its training run compiled the top level; the functions a push calls after it cost
 * about 3 ms more to compile when first called. V8 marks a cache with the flags in force when
 * the cache is written, the defaults again by then, so osv (run with the defaults) takes it.
 */
function eagerCache(file) {
  const source = readFileSync(file, 'utf8');
  v8.setFlagsFromString('--no-lazy');
  let script;
  try {
    script = new Script(Module.wrap(source), { filename: file });
  } finally {
    v8.setFlagsFromString('--lazy');
  }
  writeFileSync(cacheFileOf(file), cacheBytes(stampOf(source), script.createCachedData()));
}

/** Stamp a bundle with the sha256 of its content (replacing an older stamp); drop its old cache. */
function stamp(file) {
  const text = readFileSync(file, 'utf8');
  const body = stampOf(text) === undefined ? text : text.slice(0, text.lastIndexOf(STAMP));
  writeFileSync(file, `${body}${STAMP}${createHash('sha256').update(body).digest('hex')}\n`);
  if (existsSync(cacheFileOf(file))) unlinkSync(cacheFileOf(file));
}

const bundles = [join(DIST, 'cli.cjs'), join(DIST, 'program.cjs'), join(DIST, 'validate-schemas.cjs'), join(DIST, 'fast-push.cjs'), ...readdirSync(join(DIST, 'commands')).filter((f) => f.endsWith('.cjs')).map((f) => join(DIST, 'commands', f))];
bundles.forEach(stamp);

const tmp = mkdtempSync(join(tmpdir(), 'osv-code-cache-'));
const project = join(tmp, 'python-hello');
cpSync(join(ROOT, 'examples', 'python-hello'), project, { recursive: true });
const env = { ...process.env, XDG_CACHE_HOME: join(tmp, 'cache'), NO_COLOR: '1' };

const trainer = ({ args, extra = {} }) =>
  new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'code-cache-train.cjs'), ...args], { cwd: project, env: { ...env, ...extra }, stdio: 'ignore', timeout: 120_000 });
    child.on('close', done);
    child.on('error', done);
  });
const train = async (run) => {
  await trainer({ ...run, args: ['--warm-up', ...run.args] });
  await trainer(run);
};

const runs = [{ args: ['--help'] }, { args: ['--version'] }, ...COMMAND_NAMES.map((name) => ({ args: TRAINING[name] ?? [name, '--help'], extra: TRAINING_ENV[name] }))];
try {
  // Two at a time (a 2-core machine); every run writes only the caches of what it loaded, the
  // shared validators' identical whichever run writes last.
  const queue = [...runs];
  await Promise.all([0, 1].map(async () => {
    for (let run = queue.shift(); run; run = queue.shift()) await train(run);
  }));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
eagerCache(join(DIST, 'fast-push.cjs'));
const made = bundles.filter((f) => existsSync(cacheFileOf(f))).length;
if (made < bundles.length) console.error(`code-cache: ${bundles.length - made} of ${bundles.length} bundles have no code cache (their training run loaded nothing)`);
