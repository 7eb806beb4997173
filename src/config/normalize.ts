// A schema-valid, interpolated tree -> the typed Config every later stage reads, with the
// semantic checks a schema cannot express: sizes, ports and durations in range, guest paths
// that stay inside the image, destinations written twice, a boot command somewhere,
// run settings that contradict each other.

import * as path from 'node:path';
import { report, displayFile, baseDirOf, type LoadContext } from './context.js';
import { parseReference } from '../oci/reference.js';
import { mergeMaps } from './merge.js';
import { ModuleLoader } from './modules.js';
import { DEFAULTS } from './defaults.js';
import { MBR_MAX_PARTITION_BYTES } from '../image/mbr.js';
import { formatBytes } from '../units.js';
import { SpecReader } from './specs.js';
import { displayPath, str, type Path, type PlainIndex, type PMap, type PNode, type PScalar } from './tree.js';
import { libraryDestIsFile, parseDuration, parseExpect, parseMemory, parsePort, parseSize, splitCommand } from './values.js';
import { toSource, type Pos } from './texts.js';
import { readVolumes } from './volumes.js';
import type { Source } from '../diagnostics/error.js';
import { defaultMounts, IMAGE_ROOT, PSEUDO_MOUNTS, type FromImage, type Accel, type Arch, type Config, type FileSpec, type FilesystemKind, type Hypervisor, type ImageFormat, type ImageOutput, type Machine, type Mounts, type Network, type PortForward, type RunConfig, type RunSettings } from './types.js';

export { DEFAULTS } from './defaults.js';

/** The run keys a named run may set, merged over the top-level ones. */
const RUN_KEYS = ['cmd', 'env', 'cwd', 'run'] as const;

/** The directory's name made into a valid image name. */
export function defaultName(dir: string): string {
  const s = path.basename(dir).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return s || 'osv-app';
}

const scalarOf = (n: PNode | undefined): PScalar | undefined => (n?.kind === 'scalar' ? n : undefined);

export function normalize(ctx: LoadContext, tree: PMap, rootFile: string, loadedFiles: string[], index: PlainIndex): Config | undefined {
  const get = (k: string): PNode | undefined => tree.entries.get(k)?.value;
  const sysrootNode = scalarOf(get('sysroot'));
  const boot = new SpecReader(ctx, '/');
  const from = fromImage(boot, scalarOf(get('from')), sysrootNode);
  const sysroot = from ? IMAGE_ROOT : sysrootNode ? boot.hostPath(sysrootNode, false) : DEFAULTS.sysroot;
  const r = new SpecReader(ctx, sysroot);

  const kernelNode = get('kernel');
  const kget = (k: string): PScalar | undefined => (kernelNode?.kind === 'map' ? scalarOf(kernelNode.entries.get(k)?.value) : undefined);
  const kVersion = kget('version');
  const kPath = kget('path');
  if (kVersion && kPath && kernelNode) r.problem(kernelNode, ['kernel'], 'config.kernel', 'set either version or path, not both', 'version downloads a release; path uses a kernel you built');

  const imageNode = get('image');
  const iget = (k: string): PScalar | undefined => (imageNode?.kind === 'map' ? scalarOf(imageNode.entries.get(k)?.value) : undefined);
  const sizeNode = iget('size');
  let imageSize: number | undefined;
  if (sizeNode) {
    const s = parseSize(sizeNode.value);
    if (!s.ok) r.problem(sizeNode, ['image', 'size'], 'config.size', s.message);
    else if (s.value > MBR_MAX_PARTITION_BYTES)
      r.problem(sizeNode, ['image', 'size'], 'config.size', `${formatBytes(s.value)} is more than an OSv disk can hold: its root is an MBR partition, which stays under 2 TiB`, 'image.size is free space added to an ext root (the file is sparse): give what the program will write');
    else imageSize = s.value;
  }
  const format = (str(iget('format')) as ImageFormat | undefined) ?? DEFAULTS.format;
  const filesystem = (str(get('filesystem')) as FilesystemKind | undefined) ?? DEFAULTS.filesystem;
  const mounts = defaultMounts(filesystem);
  const mountsNode = imageNode?.kind === 'map' ? imageNode.entries.get('mounts')?.value : undefined;
  // The schema has checked the keys and that each value is a boolean.
  if (mountsNode?.kind === 'map') {
    for (const m of PSEUDO_MOUNTS) {
      const v = scalarOf(mountsNode.entries.get(m)?.value)?.value;
      if (typeof v === 'boolean') mounts[m] = v;
    }
  }

  const executables = r.executables(get('executables'), ['executables']);
  const libraries = r.libraries(get('libraries'), ['libraries']);
  const files = r.files(get('files'), ['files']);
  const loader = new ModuleLoader(ctx, r);
  loader.loadList(get('modules'), ['modules']);
  const modules = loader.result();

  const runs = new RunReader(r, format, filesystem, mounts);
  const defaultMap: PMap = { kind: 'map', entries: new Map(RUN_KEYS.flatMap((k) => (tree.entries.has(k) ? [[k, tree.entries.get(k)!]] : []))), pos: tree.pos };
  const defaultRun = runs.read(defaultMap, [], toSource(tree.pos));
  const named: Record<string, RunConfig> = {};
  const runsNode = get('runs');
  if (runsNode?.kind === 'map') {
    for (const [name, e] of runsNode.entries) {
      if (name === 'default') {
        report(ctx, 'config.run-name', 'runs.default: the name "default" is reserved for the top-level cmd, env, cwd and run', e.key, 'give this run another name');
        continue;
      }
      if (e.value.kind !== 'map') continue;
      named[name] = runs.read(mergeMaps(defaultMap, e.value), ['runs', name], toSource(e.key));
    }
  }
  // With an image, its Entrypoint and Cmd may be the command: the planner says when neither is.
  if (!get('from')) checkCommand(ctx, tree, defaultRun, named, runsNode);
  checkDestinations(ctx, r, executables, libraries, files, modules);

  return {
    file: rootFile,
    dir: path.dirname(rootFile),
    name: str(get('name')) ?? defaultName(path.dirname(rootFile)),
    arch: (str(get('arch')) as Arch | undefined) ?? DEFAULTS.arch,
    sysroot,
    ...(from ? { from } : {}),
    filesystem,
    kernel: {
      ...(kVersion ? { version: String(kVersion.value) } : {}),
      ...(kPath ? { path: r.hostPath(kPath, false) } : {}),
      ...(kget('sha256') ? { sha256: String(kget('sha256')!.value) } : {}),
      hiddenSymbols: kget('hiddenSymbols')?.value === true,
      ...(kernelNode ? { source: toSource(kernelNode.pos) } : {}),
    },
    image: { output: (str(iget('output')) as ImageOutput | undefined) ?? DEFAULTS.output, format, ...(imageSize !== undefined ? { size: imageSize } : {}), mounts },
    libraryPath: get('libraryPath')?.kind === 'seq' ? (get('libraryPath') as { items: PNode[] }).items.map((n) => path.posix.normalize(String((n as PScalar).value))) : [],
    executables,
    libraries,
    files,
    modules,
    vars: r.strings(get('vars')),
    defaultRun,
    runs: named,
    loadedFiles,
    secrets: [...ctx.secrets],
    sources: sourcesOf(index),
  };
}

/** `from:` parsed; a layout or archive path taken relative to the file that wrote it. */
function fromImage(r: SpecReader, node: PScalar | undefined, sysroot: PScalar | undefined): FromImage | undefined {
  if (!node) return undefined;
  const text = String(node.value);
  if (sysroot) {
    r.problem(sysroot, ['sysroot'], 'config.from', 'sysroot and from cannot be used together: the image is the sysroot', 'remove sysroot, or from');
    return undefined;
  }
  const parsed = parseReference(text);
  if (!parsed.ok) {
    r.problem(node, ['from'], 'config.from', parsed.error, 'write a registry reference (docker.io/library/python:3.12-slim), or oci:DIR[:TAG], docker-archive:FILE[:REPO:TAG], oci-archive:FILE[:TAG]');
    return undefined;
  }
  const ref = parsed.value;
  const reference = ref.transport === 'registry' ? ref : { ...ref, path: path.resolve(baseDirOf(r.ctx, node.pos.file), ref.path) };
  return { text, reference, source: toSource(node.pos) };
}

/** Every value's position, keyed `files/2/dest` (the JSON pointers of the schema step, unslashed). */
function sourcesOf(index: PlainIndex): Map<string, Source> {
  const out = new Map<string, Source>();
  for (const [ptr, n] of index.nodes) out.set(ptr.slice(1), toSource(n.pos));
  return out;
}

/** cmd, env, cwd and run settings of the default run or of a named run merged over it. */
class RunReader {
  constructor(
    private readonly r: SpecReader,
    private readonly format: ImageFormat,
    private readonly filesystem: FilesystemKind,
    private readonly mounts: Mounts,
  ) {}

  read(map: PMap, at: Path, source: Source): RunConfig {
    const get = (k: string): PNode | undefined => map.entries.get(k)?.value;
    const cmd = this.cmd(get('cmd'), [...at, 'cmd']);
    const cwdNode = get('cwd');
    const cwd = cwdNode ? this.r.guestPath(cwdNode, [...at, 'cwd']) : undefined;
    return {
      ...(cmd ? { cmd } : {}),
      env: this.r.strings(get('env')),
      ...(cwd ? { cwd } : {}),
      run: this.settings(get('run'), [...at, 'run']),
      source,
    };
  }

  private cmd(node: PNode | undefined, at: Path): string[] | undefined {
    if (!node) return undefined;
    let argv: string[];
    if (node.kind === 'scalar') {
      const split = splitCommand(String(node.value));
      if (!split.ok) {
        this.r.problem(node, at, 'config.cmd', split.message, 'quote words with spaces, or write cmd as a list');
        return undefined;
      }
      argv = split.value;
    } else if (node.kind === 'seq') {
      argv = node.items.map((n) => String((n as PScalar).value));
    } else return undefined;
    if (argv[0] === '') {
      const first = node.kind === 'seq' ? node.items[0]! : node;
      this.r.problem(first, node.kind === 'seq' ? [...at, 0] : at, 'config.cmd', 'the program name is empty');
      return undefined;
    }
    return argv;
  }

  private settings(node: PNode | undefined, at: Path): RunSettings {
    const m = node?.kind === 'map' ? node : undefined;
    const get = (k: string): PNode | undefined => m?.entries.get(k)?.value;
    const sc = (k: string): PScalar | undefined => scalarOf(get(k));
    const here = (k: string | number, ...more: Array<string | number>): Path => [...at, k, ...more];
    const r = this.r;

    const hypervisor = (str(sc('hypervisor')) as Hypervisor | undefined) ?? DEFAULTS.hypervisor;
    const hvNode = sc('hypervisor');
    let memory = DEFAULTS.memory;
    const memNode = sc('memory');
    if (memNode) {
      const v = parseMemory(memNode.value);
      if (v.ok) memory = v.value;
      else r.problem(memNode, here('memory'), 'config.size', v.message, 'QEMU and Firecracker take memory in MiB: write e.g. 512M or 2G');
    }
    let timeout: number | undefined;
    const toNode = sc('timeout');
    if (toNode) {
      const v = parseDuration(toNode.value);
      if (v.ok) timeout = v.value;
      else r.problem(toNode, here('timeout'), 'config.invalid-value', v.message);
    }
    const expect = str(sc('expect'));
    if (expect !== undefined) {
      const v = parseExpect(expect);
      if (!v.ok) r.problem(sc('expect')!, here('expect'), 'config.regex', v.message, 'expect is a JavaScript regular expression for what the program prints; escape special characters with \\');
    }
    const netNode = sc('network');
    const network = parseNetwork(str(netNode) ?? (hypervisor === 'firecracker' ? 'none' : DEFAULTS.network));
    const accel = (str(sc('accel')) as Accel | undefined) ?? DEFAULTS.accel;

    const ports: PortForward[] = [];
    const portsNode = get('ports');
    if (portsNode?.kind === 'seq') {
      const seen = new Map<string, number>();
      portsNode.items.forEach((n, i) => {
        if (n.kind !== 'scalar') return;
        const p = parsePort(n.value);
        if (!p.ok) return r.problem(n, here('ports', i), 'config.port', p.message);
        const key = `${p.value.hostAddress ?? '127.0.0.1'}:${p.value.host}/${p.value.protocol}`;
        const prev = seen.get(key);
        if (prev !== undefined)
          return r.problem(n, here('ports', i), 'config.port', `host port ${p.value.host}/${p.value.protocol} is already forwarded by ${displayPath(here('ports', prev))}`, 'each host port can be forwarded once');
        seen.set(key, i);
        ports.push({ ...p.value, source: toSource(n.pos) });
      });
      if (ports.length && network.kind !== 'user')
        r.problem(portsNode, here('ports'), 'config.port', `port forwarding needs network: user (this run has network: ${str(netNode) ?? 'none'})`, 'with tap or bridge networking, reach the guest at its own address');
    }

    if (hypervisor === 'firecracker') {
      if (accel === 'tcg') r.problem(sc('accel')!, here('accel'), 'config.hypervisor', 'firecracker needs KVM: it cannot use accel: tcg', 'use hypervisor: qemu for software emulation');
      if (str(netNode) === 'user') r.problem(netNode!, here('network'), 'config.hypervisor', 'firecracker has no user networking: use tap:NAME or none', undefined);
      if (this.format === 'qcow2' && hvNode) r.problem(hvNode, here('hypervisor'), 'config.hypervisor', 'firecracker boots raw disks only, but image.format is qcow2', 'set image.format: raw');
      if (sc('machine')) r.problem(sc('machine')!, here('machine'), 'config.hypervisor', 'machine: chooses a QEMU machine; firecracker has its own', 'remove machine:, or use hypervisor: qemu');
    }
    const machine = str(sc('machine')) as Machine | undefined;

    const kernelArgs: string[] = [];
    const kaNode = get('kernelArgs');
    if (kaNode?.kind === 'seq')
      kaNode.items.forEach((n, i) => {
        const a = String((n as PScalar).value);
        if (/^--rootfs(=|$)/.test(a)) r.problem(n, here('kernelArgs', i), 'config.invalid-value', '--rootfs is set by osv from filesystem:', 'remove it; set filesystem: rofs or ext');
        else kernelArgs.push(a);
      });

    const volumes = readVolumes(r, get('volumes'), here('volumes'), { filesystem: this.filesystem, mounts: this.mounts, kernelArgs });

    const qemuNode = sc('qemu');
    const qemu = qemuNode ? (String(qemuNode.value).includes('/') ? r.hostPath(qemuNode, false) : String(qemuNode.value)) : undefined;
    const cpus = sc('cpus')?.value;
    return {
      hypervisor,
      memory,
      cpus: typeof cpus === 'number' ? cpus : DEFAULTS.cpus,
      ports,
      accel,
      network,
      ...(timeout !== undefined ? { timeout } : {}),
      ...(expect !== undefined ? { expect } : {}),
      volumes,
      ...(qemu !== undefined ? { qemu } : {}),
      ...(machine !== undefined ? { machine } : {}),
      kernelArgs,
    };
  }
}

function parseNetwork(s: string): Network {
  const [kind, name] = s.split(':', 2) as [string, string | undefined];
  if ((kind === 'tap' || kind === 'bridge') && name) return { kind, name };
  return kind === 'none' ? { kind: 'none' } : { kind: 'user' };
}

/** Some run must have a program to boot. */
function checkCommand(ctx: LoadContext, tree: PMap, def: RunConfig, named: Record<string, RunConfig>, runsNode: PNode | undefined): void {
  if (def.cmd || ctx.errors.some((e) => e.code === 'config.cmd')) return;
  const names = Object.keys(named);
  const withCmd = names.filter((n) => named[n]!.cmd);
  if (!withCmd.length) {
    report(ctx, 'config.cmd-missing', 'no cmd: nothing to boot', tree.pos, 'set cmd to the program and its arguments, e.g. cmd: [/usr/bin/python3, app.py]');
    return;
  }
  if (runsNode?.kind !== 'map') return;
  for (const n of names)
    if (!named[n]!.cmd)
      report(ctx, 'config.cmd-missing', `runs.${n}: no cmd, and there is no top-level cmd to inherit`, runsNode.entries.get(n)!.key, `set cmd in runs.${n}, or a top-level cmd`);
}

interface Claim {
  dest: string;
  /** Where dest was written (the entry itself when dest is a default). */
  at: Source & Partial<Pos>;
  /** Same identity twice is a harmless repeat; different identities on one path conflict. */
  identity: string;
  label: string;
  source: Source;
  link: boolean;
}

/** Two entries writing one guest path, or an entry under a path that is a symlink. */
function checkDestinations(ctx: LoadContext, r: SpecReader, exes: Config['executables'], libs: Config['libraries'], files: FileSpec[], modules: Config['modules']): void {
  const claims: Claim[] = [];
  const addExe = (e: Config['executables'][number], label: string): void => {
    claims.push({ dest: e.dest ?? '/' + path.posix.basename(e.src), at: r.destPos.get(e) ?? e.source, identity: `program ${e.src}`, label, source: e.source, link: false });
  };
  const addLib = (l: Config['libraries'][number], label: string): void => {
    // Only a file destination is claimed: several libraries may go into one directory.
    if (l.dest && libraryDestIsFile(l.name, l.dest)) claims.push({ dest: l.dest, at: r.destPos.get(l) ?? l.source, identity: `library ${l.name}`, label, source: l.source, link: false });
  };
  const addFile = (f: FileSpec, label: string): void => {
    const identity = f.kind === 'copy' ? `copy of ${f.src}` : f.kind === 'link' ? `link to ${f.link}` : f.kind === 'content' ? 'text written in the configuration' : 'directory';
    claims.push({ dest: f.dest, at: r.destPos.get(f) ?? f.source, identity, label, source: f.source, link: f.kind === 'link' });
  };
  exes.forEach((e, i) => addExe(e, `executables[${i}]`));
  libs.forEach((l, i) => addLib(l, `libraries[${i}]`));
  files.forEach((f, i) => addFile(f, `files[${i}]`));
  for (const m of modules) {
    if (m.kind !== 'osv-up') continue;
    m.executables.forEach((e, i) => addExe(e, `module ${m.name}: executables[${i}]`));
    m.libraries.forEach((l, i) => addLib(l, `module ${m.name}: libraries[${i}]`));
    m.files.forEach((f, i) => addFile(f, `module ${m.name}: files[${i}]`));
  }
  const byDest = new Map<string, Claim>();
  const where = (s: Source): string => `${displayFile(ctx, s.file)}:${s.line}:${s.column}`;
  for (const c of claims) {
    const prev = byDest.get(c.dest);
    if (prev && prev.identity !== c.identity) {
      report(ctx, 'config.dest-conflict', `${c.label}: ${c.dest} is already written by ${prev.label} (${where(prev.at)})`, c.at, `${prev.label} puts a ${prev.identity} there, this entry a ${c.identity}; change one dest`);
      continue;
    }
    if (!prev) byDest.set(c.dest, c);
  }
  for (const c of claims) {
    for (let dir = path.posix.dirname(c.dest); dir !== '/'; dir = path.posix.dirname(dir)) {
      const owner = byDest.get(dir);
      if (owner?.link) {
        report(ctx, 'config.dest-conflict', `${c.label}: ${c.dest} is inside ${dir}, which ${owner.label} makes a symlink (${where(owner.at)})`, c.at, 'point dest at the link target instead');
        break;
      }
    }
  }
}
