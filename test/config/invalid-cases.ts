// Invalid configurations, each with every error it must produce: message and position.
// Files are written into a fresh directory; the root is osv.yaml unless `config` says otherwise.

export interface InvalidCase {
  name: string;
  files: Record<string, string | Buffer>;
  env?: Record<string, string>;
  config?: string;
  /** `file:line:column message`, in report order. */
  errors: string[];
}

const long = 'x'.repeat(256);
const laughs = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill('*' + 'abcdefghi'[i]).join(', ')}]`)].join('\n');

export const invalidCases: InvalidCase[] = [
  // ---- YAML syntax ------------------------------------------------------------------------
  { name: 'unclosed flow sequence', files: { 'osv.yaml': 'cmd: [a, b\nname: x\n' }, errors: ["osv.yaml:2:1 YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]"] },
  { name: 'duplicate key', files: { 'osv.yaml': 'cmd: [a]\nname: x\ncmd: [b]\n' }, errors: ["osv.yaml:3:1 duplicate key \"cmd\""] },
  { name: 'tab indentation', files: { 'osv.yaml': 'cmd: [a]\nrun:\n\tcpus: 2\n' }, errors: ["osv.yaml:3:1 YAML syntax error: Tabs are not allowed as indentation"] },
  { name: 'unclosed quote', files: { 'osv.yaml': 'cmd: [a]\nname: "abc\n' }, errors: ["osv.yaml:2:7 YAML syntax error: Missing closing \"quote"] },
  { name: 'two documents', files: { 'osv.yaml': 'cmd: [a]\n---\ncmd: [b]\n' }, errors: ["osv.yaml:2:1 YAML syntax error: a second document starts here"] },
  // The parser only warns of these, and reads on: the tag dropped, the directive ignored.
  { name: 'unknown tag', files: { 'osv.yaml': 'name: !foo bar\ncmd: [a]\n' }, errors: ['osv.yaml:1:7 YAML tag "!foo" is not one osv-up reads'] },
  { name: 'unknown directive', files: { 'osv.yaml': '%FOO bar\n---\ncmd: [a]\n' }, errors: ['osv.yaml:1:1 YAML: Unknown directive %FOO'] },
  { name: 'unknown alias', files: { 'osv.yaml': 'cmd: *nope\n' }, errors: ["osv.yaml:1:6 unknown alias \"*nope\""] },
  { name: 'root is a list', files: { 'osv.yaml': '- cmd\n- name\n' }, errors: ["osv.yaml:1:1 expected a map, got a list"] },
  { name: 'not UTF-8', files: { 'osv.yaml': Buffer.from('cmd: [caf\xe9]\n', 'latin1') }, errors: ['osv.yaml:1:10 osv.yaml is not UTF-8 text'] },
  { name: 'nested too deeply', files: { 'osv.yaml': `cmd: [a]\nenv: ${'['.repeat(600)}${']'.repeat(600)}\n` }, errors: ['osv.yaml:2:505 values are nested more than 500 levels deep'] },
  { name: 'alias bomb', files: { 'osv.yaml': `${laughs}\ncmd: [a]\n` }, errors: ['osv.yaml:6:8 the document expands to more than 100000 values (through aliases?)'] },
  // ---- unknown keys -----------------------------------------------------------------------
  { name: 'top-level typo', files: { 'osv.yaml': 'nmae: hello\ncmd: [a]\n' }, errors: ["osv.yaml:1:1 unknown key \"nmae\" (did you mean \"name\"?)"] },
  { name: 'run typo', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  memroy: 1G\n' }, errors: ["osv.yaml:3:3 unknown key \"memroy\" in run (did you mean \"memory\"?)"] },
  { name: 'unknown key without a near name', files: { 'osv.yaml': 'cmd: [a]\nfrobnicate: 1\n' }, errors: ["osv.yaml:2:1 unknown key \"frobnicate\""] },
  { name: 'files entry typo', files: { 'osv.yaml': 'cmd: [a]\nfiles:\n  - src: ./a\n    dest: /a\n    mdoe: "0644"\n' }, errors: ["osv.yaml:5:5 unknown key \"mdoe\" in files[0] (did you mean \"mode\"?)"] },
  { name: 'kernel typo', files: { 'osv.yaml': 'cmd: [a]\nkernel:\n  hiddenSymbol: true\n' }, errors: ["osv.yaml:3:3 unknown key \"hiddenSymbol\" in kernel (did you mean \"hiddenSymbols\"?)"] },
  { name: 'named run typo', files: { 'osv.yaml': 'cmd: [a]\nruns:\n  test:\n    envv: {A: b}\n' }, errors: ["osv.yaml:4:5 unknown key \"envv\" in runs.test (did you mean \"env\"?)"] },
  { name: 'image typo', files: { 'osv.yaml': 'cmd: [a]\nimage:\n  fromat: qcow2\n' }, errors: ["osv.yaml:3:3 unknown key \"fromat\" in image (did you mean \"format\"?)"] },
  // ---- wrong types ------------------------------------------------------------------------
  { name: 'cpus not a number', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  cpus: two\n' }, errors: ["osv.yaml:3:9 run.cpus: expected an integer, got a string (\"two\")"] },
  { name: 'cmd a number', files: { 'osv.yaml': 'cmd: 42\n' }, errors: ["osv.yaml:1:6 cmd: expected a list of strings (the argv) or a command string, got an integer (42)"] },
  { name: 'env a list', files: { 'osv.yaml': 'cmd: [a]\nenv: [A=b]\n' }, errors: ["osv.yaml:2:6 env: expected a map, got a list"] },
  { name: 'files a map', files: { 'osv.yaml': 'cmd: [a]\nfiles: {src: a, dest: /a}\n' }, errors: ["osv.yaml:2:8 files: expected a list, got a map"] },
  { name: 'ports a string', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  ports: "8080:80"\n' }, errors: ["osv.yaml:3:10 run.ports: expected a list, got a string (\"8080:80\")"] },
  { name: 'library a number', files: { 'osv.yaml': 'cmd: [a]\nlibraries: [libz.so.1, 3]\n' }, errors: ["osv.yaml:2:24 libraries[1]: expected a soname or path, or a map {name, dest, optional}, got an integer (3)"] },
  { name: 'boolean written as a string', files: { 'osv.yaml': 'cmd: [a]\nkernel:\n  hiddenSymbols: "yes"\n' }, errors: ["osv.yaml:3:18 kernel.hiddenSymbols: expected true or false, got a string (\"yes\")"] },
  { name: 'env value a map', files: { 'osv.yaml': 'cmd: [a]\nenv:\n  A: {b: 1}\n' }, errors: ["osv.yaml:3:6 env.A: expected a string, a number or a boolean, got a map"] },
  { name: 'files entry a string', files: { 'osv.yaml': 'cmd: [a]\nfiles:\n  - ./a\n' }, errors: ["osv.yaml:3:5 files[0]: expected a map: {src, dest}, {dest, link} or {dest, dir: true}, got a string (\"./a\")"] },
  { name: 'filesystem not in the enum', files: { 'osv.yaml': 'cmd: [a]\nfilesystem: zfs\n' }, errors: ["osv.yaml:2:13 filesystem: expected one of rofs, ext, got a string (\"zfs\")"] },
  { name: 'accel typo', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  accel: kvmm\n' }, errors: ["osv.yaml:3:10 run.accel: expected one of auto, kvm, tcg, got a string (\"kvmm\") (did you mean \"kvm\"?)"] },
  { name: 'network unknown', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  network: wifi\n' }, errors: ["osv.yaml:3:12 run.network: invalid network \"wifi\": expected user, none, tap:NAME or bridge:NAME (NAME up to 15 characters)"] },
  { name: 'files entry without dest', files: { 'osv.yaml': 'cmd: [a]\nfiles:\n  - src: ./a\n' }, errors: ["osv.yaml:3:5 files[0]: missing required key \"dest\""] },
  { name: 'link without dest', files: { 'osv.yaml': 'cmd: [a]\nfiles:\n  - link: /b\n' }, errors: ["osv.yaml:3:5 files[0]: missing required key \"dest\""] },
  { name: 'dir: false', files: { 'osv.yaml': 'cmd: [a]\nfiles:\n  - dest: /d\n    dir: false\n' }, errors: ["osv.yaml:4:10 files[0].dir: expected true, got a boolean (false)"] },
  // ---- sizes and durations ----------------------------------------------------------------
  { name: 'memory with a bad unit', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  memory: 12X\n' }, errors: ["osv.yaml:3:11 run.memory: invalid size \"12X\": expected a number of bytes, or a number with a unit K, M, G or T (512M, 2G)"] },
  { name: 'memory not whole MiB', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  memory: 1000000\n' }, errors: ["osv.yaml:3:11 run.memory: 1000000 is not a whole number of MiB (1M = 1048576 bytes)"] },
  { name: 'image size zero', files: { 'osv.yaml': 'cmd: [a]\nimage:\n  size: 0\n' }, errors: ["osv.yaml:3:9 image.size: must be at least 1, got 0"] },
  { name: 'image size past what an MBR partition holds', files: { 'osv.yaml': 'cmd: [a]\nfilesystem: ext\nimage:\n  size: 16T\n' }, errors: ['osv.yaml:4:9 image.size: 16 TiB is more than an OSv disk can hold: its root is an MBR partition, which stays under 2 TiB'] },
  { name: 'size not whole bytes', files: { 'osv.yaml': 'cmd: [a]\nimage:\n  size: 1.5B\n' }, errors: ["osv.yaml:3:9 image.size: size \"1.5B\" is not a whole number of bytes"] },
  { name: 'size too large', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  memory: 99999999T\n' }, errors: ["osv.yaml:3:11 run.memory: size \"99999999T\" is too large"] },
  { name: 'timeout in words', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  timeout: 5 minutes\n' }, errors: ["osv.yaml:3:12 run.timeout: invalid duration \"5 minutes\": expected seconds, or a number with a unit ms, s, m or h (30s, 2m)"] },
  { name: 'timeout zero', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  timeout: 0\n' }, errors: ["osv.yaml:3:12 run.timeout: must be greater than 0, got 0"] },
  // ---- ports ------------------------------------------------------------------------------
  { name: 'port with four parts', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  ports: ["80:80:80:80"]\n' }, errors: ["osv.yaml:3:11 run.ports[0]: invalid port mapping \"80:80:80:80\": expected \"HOST:GUEST\", \"HOST:GUEST/udp\" or \"ADDRESS:HOST:GUEST\""] },
  { name: 'port out of range', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  ports: ["99999:80"]\n' }, errors: ["osv.yaml:3:11 run.ports[0]: host port 99999 in \"99999:80\" is out of range 1-65535"] },
  { name: 'port protocol', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  ports: ["8080:80/sctp"]\n' }, errors: ["osv.yaml:3:11 run.ports[0]: invalid port mapping \"8080:80/sctp\": expected \"HOST:GUEST\", \"HOST:GUEST/udp\" or \"ADDRESS:HOST:GUEST\""] },
  { name: 'host port twice', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  ports:\n    - "8080:80"\n    - "8080:81"\n' }, errors: ["osv.yaml:5:7 run.ports[1]: host port 8080/tcp is already forwarded by run.ports[0]"] },
  { name: 'port address octet', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  ports: ["300.1.1.1:80:80"]\n' }, errors: ["osv.yaml:3:11 run.ports[0]: invalid address 300.1.1.1 in \"300.1.1.1:80:80\": each part must be 0-255"] },
  { name: 'ports without user networking', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  network: none\n  ports: ["8080:80"]\n' }, errors: ["osv.yaml:4:10 run.ports: port forwarding needs network: user (this run has network: none)"] },
  // ---- guest paths and destinations ---------------------------------------------------------
  { name: 'relative dest', files: { 'osv.yaml': 'cmd: [a]\nfiles:\n  - src: ./a\n    dest: etc/a\n' }, errors: ["osv.yaml:4:11 files[0].dest: guest path \"etc/a\" is not absolute: it must start with /"] },
  { name: 'dest escaping the root', files: { 'osv.yaml': 'cmd: [a]\nfiles:\n  - src: ./a\n    dest: /etc/../../a\n' }, errors: ["osv.yaml:4:11 files[0].dest: guest path \"/etc/../../a\" escapes the image root with \"..\""] },
  { name: 'dest with the manifest separator', files: { 'osv.yaml': 'cmd: [a]\nfiles:\n  - src: ./a\n    dest: "/a: b"\n' }, errors: ["osv.yaml:4:11 files[0].dest: guest path \"/a: b\" contains \": \", which OSv manifests cannot express"] },
  { name: 'dest name longer than 255 bytes', files: { 'osv.yaml': `cmd: [a]\nfiles:\n  - src: ./a\n    dest: /${long}\n` }, errors: [`osv.yaml:4:11 files[0].dest: guest path "/${long}" has a name longer than 255 bytes`] },
  { name: 'dest with NUL', files: { 'osv.yaml': 'cmd: [a]\nfiles:\n  - src: ./a\n    dest: "/a\\0b"\n' }, errors: ['osv.yaml:4:11 files[0].dest: guest path "/a\\u0000b" contains a NUL character'] },
  { name: 'dest name ending in whitespace', files: { 'osv.yaml': 'cmd: [a]\nfiles:\n  - src: ./a\n    dest: "/x/\\t"\n' }, errors: ['osv.yaml:4:11 files[0].dest: guest path "/x/\\t" has a name ending in whitespace, which OSv\'s manifest reader strips'] },
  { name: 'relative cwd', files: { 'osv.yaml': 'cmd: [a]\ncwd: app\n' }, errors: ["osv.yaml:2:6 cwd: guest path \"app\" is not absolute: it must start with /"] },
  { name: 'two libraries at one file path', files: { 'osv.yaml': 'cmd: [a]\nlibraries:\n  - {name: libx.so.1, dest: /opt/libx.so.1}\n  - {name: liby.so.1, dest: /opt/libx.so.1}\n' }, errors: ["osv.yaml:4:29 libraries[1]: /opt/libx.so.1 is already written by libraries[0] (osv.yaml:3:29)"] },
  { name: 'two sources for one dest', files: { 'osv.yaml': 'cmd: [a]\nfiles:\n  - src: ./a\n    dest: /etc/app.conf\n  - src: ./b\n    dest: /etc/app.conf\n' }, errors: ["osv.yaml:6:11 files[1]: /etc/app.conf is already written by files[0] (osv.yaml:4:11)"] },
  { name: 'dest inside a symlink', files: { 'osv.yaml': 'cmd: [a]\nfiles:\n  - dest: /lib\n    link: /usr/lib\n  - src: ./a\n    dest: /lib/a.so\n' }, errors: ["osv.yaml:6:11 files[1]: /lib/a.so is inside /lib, which files[0] makes a symlink (osv.yaml:3:11)"] },
  { name: 'executable default dest taken by a file', files: { 'osv.yaml': 'cmd: [a]\nexecutables: [./bin/app]\nfiles:\n  - src: ./app.txt\n    dest: /app\n' }, errors: ["osv.yaml:5:11 files[0]: /app is already written by executables[0] (osv.yaml:2:15)"] },
  { name: 'libraryPath relative', files: { 'osv.yaml': 'cmd: [a]\nlibraryPath: [lib]\n' }, errors: ["osv.yaml:2:15 libraryPath[0]: \"lib\" is not absolute: it must start with /"] },
  // ---- extends ------------------------------------------------------------------------------
  { name: 'extends cycle', files: { 'osv.yaml': 'extends: [base.yaml]\ncmd: [a]\n', 'base.yaml': 'extends: [osv.yaml]\n' }, errors: ["base.yaml:1:11 extends cycle: osv.yaml → base.yaml → osv.yaml"] },
  { name: 'extends itself', files: { 'osv.yaml': 'extends: osv.yaml\ncmd: [a]\n' }, errors: ["osv.yaml:1:10 extends cycle: osv.yaml → osv.yaml"] },
  { name: 'extends a missing file', files: { 'osv.yaml': 'extends: [./nope.yaml]\ncmd: [a]\n' }, errors: ["osv.yaml:1:11 extends[0]: file not found: ./nope.yaml"] },
  { name: 'a missing base does not hide the other errors', files: { 'osv.yaml': 'extends: [./nope.yaml]\ncmd: [a, "${FROM_BASE}"]\nrun: {cpus: 0}\n' }, errors: ['osv.yaml:1:11 extends[0]: file not found: ./nope.yaml', 'osv.yaml:3:13 run.cpus: must be at least 1, got 0'] },
  { name: 'unknown template', files: { 'osv.yaml': 'extends: [template:natve]\ncmd: [a]\n' }, errors: ["osv.yaml:1:11 extends[0]: unknown template \"natve\" (did you mean \"native\"?)"] },
  { name: 'error in an extended file keeps its position', files: { 'osv.yaml': 'extends: [conf/base.yaml]\ncmd: [a]\n', 'conf/base.yaml': 'run:\n  cpus: 0\n' }, errors: ["conf/base.yaml:2:9 run.cpus: must be at least 1, got 0"] },
  { name: 'extends a list (it was replaced by the next file without a word)', files: { 'osv.yaml': 'extends: [base.yaml]\ncmd: [a]\n', 'base.yaml': '- cmd: [b]\n' }, errors: ['base.yaml:1:1 base.yaml is a list, not a configuration (a map of osv.yaml keys)'] },
  { name: 'extends a file of one value', files: { 'osv.yaml': 'extends: [conf/base.yaml, conf/empty.yaml]\ncmd: [a]\n', 'conf/base.yaml': 'root:x:0:0:root:/root:/bin/bash\n', 'conf/empty.yaml': '' }, errors: ['conf/base.yaml:1:1 conf/base.yaml is a single value, not a configuration (a map of osv.yaml keys)'] },
  { name: 'extends entry not a string', files: { 'osv.yaml': 'extends: [1]\ncmd: [a]\n' }, errors: ["osv.yaml:1:11 extends[0]: expected a string, got an integer (1)"] },
  // ---- variables ----------------------------------------------------------------------------
  { name: 'undefined variable', files: { 'osv.yaml': 'vars:\n  PORT: 80\ncmd: [a, "--port=${PORTT}"]\n' }, errors: ["osv.yaml:3:18 undefined variable \"PORTT\" (did you mean \"PORT\"?)"] },
  { name: 'unset environment variable', files: { 'osv.yaml': 'cmd: [a, "${env:OSV_TEST_UNSET}"]\n' }, errors: ["osv.yaml:1:11 environment variable \"OSV_TEST_UNSET\" is not set"] },
  { name: 'variable cycle', files: { 'osv.yaml': 'vars:\n  A: ${B}\n  B: x${A}\ncmd: [a, "${A}"]\n' }, errors: ["osv.yaml:3:7 variable cycle: A → B → A"] },
  { name: 'unterminated reference', files: { 'osv.yaml': 'cmd: [a, "${HOME"]\n' }, errors: ["osv.yaml:1:11 unterminated \"${\" in \"${HOME\""] },
  { name: 'invalid reference', files: { 'osv.yaml': 'cmd: [a, "${1x}"]\n' }, errors: ["osv.yaml:1:11 invalid reference \"${1x}\""] },
  { name: 'variable used by a base, defined nowhere', files: { 'osv.yaml': 'extends: [base.yaml]\ncmd: [a]\n', 'base.yaml': 'cwd: ${APP_DIR}\n' }, errors: ["base.yaml:1:6 undefined variable \"APP_DIR\""] },
  // ---- semantics ----------------------------------------------------------------------------
  { name: 'empty file: no cmd', files: { 'osv.yaml': '' }, errors: ["osv.yaml:1:1 no cmd: nothing to boot"] },
  { name: 'named run without cmd', files: { 'osv.yaml': 'runs:\n  a:\n    cmd: [x]\n  b:\n    env: {A: b}\n' }, errors: ["osv.yaml:4:3 runs.b: no cmd, and there is no top-level cmd to inherit"] },
  { name: 'kernel version and path', files: { 'osv.yaml': 'cmd: [a]\nkernel:\n  version: v0.57.0\n  path: ./build\n' }, errors: ["osv.yaml:3:3 kernel: set either version or path, not both"] },
  { name: 'run named default', files: { 'osv.yaml': 'cmd: [a]\nruns:\n  default:\n    cmd: [b]\n' }, errors: ["osv.yaml:3:3 runs.default: the name \"default\" is reserved for the top-level cmd, env, cwd and run"] },
  { name: 'firecracker with qcow2', files: { 'osv.yaml': 'cmd: [a]\nimage:\n  format: qcow2\nrun:\n  hypervisor: firecracker\n' }, errors: ["osv.yaml:5:15 run.hypervisor: firecracker boots raw disks only, but image.format is qcow2"] },
  { name: 'firecracker with tcg', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  hypervisor: firecracker\n  accel: tcg\n' }, errors: ["osv.yaml:4:10 run.accel: firecracker needs KVM: it cannot use accel: tcg"] },
  { name: 'expect that matches an empty string (any console line would pass)', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  expect: "ready|"\n' }, errors: ["osv.yaml:3:11 run.expect: \"ready|\" matches an empty string, so every console line would pass (the firmware's first among them)"] },
  { name: 'invalid expect regex', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  expect: "ready ("\n' }, errors: ["osv.yaml:3:11 run.expect: invalid regular expression: /ready (/: Unterminated group"] },
  // ---- named volumes ----------------------------------------------------------------------
  { name: 'volume name that would leave its directory', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  volumes:\n    - {name: ../etc, dest: /data}\n' }, errors: ["osv.yaml:4:14 run.volumes[0].name: invalid volume name \"../etc\": use lowercase letters, digits and \"-\" (at most 63, not starting or ending with \"-\"); the name becomes a file name, so it cannot hold \"/\" or \"..\""] },
  { name: 'volume name with capitals', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  volumes:\n    - {name: Data, dest: /data}\n' }, errors: ["osv.yaml:4:14 run.volumes[0].name: invalid volume name \"Data\": use lowercase letters, digits and \"-\" (at most 63, not starting or ending with \"-\"); the name becomes a file name, so it cannot hold \"/\" or \"..\""] },
  { name: 'volume key typo', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  volumes:\n    - {name: data, dest: /data, readOnly: true}\n' }, errors: ["osv.yaml:4:33 unknown key \"readOnly\" in run.volumes[0] (did you mean \"readonly\"?)"] },
  { name: 'volume without dest', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  volumes:\n    - {name: data}\n' }, errors: ["osv.yaml:4:7 run.volumes[0]: missing required key \"dest\""] },
  { name: 'volume on the root', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  volumes:\n    - {name: data, dest: /}\n' }, errors: ["osv.yaml:4:26 run.volumes[0].dest: a volume cannot be mounted over the root of the image"] },
  { name: 'volume in /proc', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  volumes:\n    - {name: data, dest: /proc/data}\n' }, errors: ["osv.yaml:4:26 run.volumes[0].dest: /proc/data is inside /proc, where OSv mounts its own proc file system"] },
  { name: 'volume in the /tmp ramfs of a rofs image', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  volumes:\n    - {name: data, dest: /tmp/data}\n' }, errors: ["osv.yaml:4:26 run.volumes[0].dest: /tmp/data is inside /tmp, where OSv mounts an empty ramfs on a rofs image at every boot"] },
  { name: 'volume dest with a comma', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  volumes:\n    - {name: data, dest: "/a,b"}\n' }, errors: ["osv.yaml:4:26 run.volumes[0].dest: /a,b contains a comma, which OSv's --mount-fs=TYPE,DEVICE,PATH cannot carry"] },
  { name: 'volume too small', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  volumes:\n    - {name: data, dest: /data, size: 1M}\n' }, errors: ["osv.yaml:4:39 run.volumes[0].size: a volume of 1.0 MiB is too small: the least is 16 MiB"] },
  { name: 'two volumes at one dest', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  volumes:\n    - {name: data, dest: /data}\n    - {name: more, dest: /data}\n' }, errors: ["osv.yaml:5:7 run.volumes[1]: a second writable named volume (\"more\" after \"data\"): OSv's ext module mounts one ext file system at a time, so the second mount would replace the first", "osv.yaml:5:26 run.volumes[1].dest: /data is where volumes[0] (volume \"data\") mounts already"] },
  { name: 'a volume inside another', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  volumes:\n    - {name: data, dest: /data}\n    - {name: more, dest: /data/more}\n' }, errors: ["osv.yaml:5:7 run.volumes[1]: a second writable named volume (\"more\" after \"data\"): OSv's ext module mounts one ext file system at a time, so the second mount would replace the first", "osv.yaml:5:26 run.volumes[1].dest: /data/more is inside /data, which volumes[0] (volume \"data\") mounts"] },
  { name: 'two named volumes in one run', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  volumes:\n    - {name: data, dest: /data}\n    - {name: logs, dest: /logs}\n' }, errors: ["osv.yaml:5:7 run.volumes[1]: a second writable named volume (\"logs\" after \"data\"): OSv's ext module mounts one ext file system at a time, so the second mount would replace the first"] },
  { name: 'a named run adds a second volume to the inherited one', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  volumes: [{name: data, dest: /data}]\nruns:\n  logs:\n    run:\n      volumes: [{name: logs, dest: /logs}]\n' }, errors: ["osv.yaml:7:17 runs.logs.run.volumes[1]: a second writable named volume (\"logs\" after \"data\"): OSv's ext module mounts one ext file system at a time, so the second mount would replace the first"] },
  { name: 'a volume where kernelArgs mounts', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  kernelArgs: ["--mount-fs=zfs,/dev/vblk2,/data"]\n  volumes: [{name: data, dest: /data/x}]\n' }, errors: ["osv.yaml:4:32 run.volumes[0].dest: /data/x is inside /data, which kernelArgs[0] mounts"] },
  { name: 'a named volume over an ext root', files: { 'osv.yaml': 'cmd: [a]\nfilesystem: ext\nrun:\n  volumes: [{name: data, dest: /data}]\n' }, errors: ["osv.yaml:4:13 run.volumes[0]: named volume \"data\" needs filesystem: rofs: OSv's ext module mounts one ext file system at a time, and an ext root is one already"] },
  { name: 'kernel option --rootfs', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  kernelArgs: [--rootfs=zfs]\n' }, errors: ["osv.yaml:3:16 run.kernelArgs[0]: --rootfs is set by osv from filesystem:"] },
  { name: 'kernel option without dashes', files: { 'osv.yaml': 'cmd: [a]\nrun:\n  kernelArgs: [verbose]\n' }, errors: ["osv.yaml:3:16 run.kernelArgs[0]: invalid kernel option \"verbose\": expected --name or --name=value"] },
  { name: 'cmd string with an open quote', files: { 'osv.yaml': "cmd: /bin/echo 'hello\n" }, errors: ["osv.yaml:1:6 cmd: unterminated ' quote in \"/bin/echo 'hello\""] },
  { name: 'cmd with an empty program', files: { 'osv.yaml': 'cmd: ["", x]\n' }, errors: ["osv.yaml:1:7 cmd[0]: the program name is empty"] },
  { name: 'mode not octal', files: { 'osv.yaml': 'cmd: [a]\nfiles:\n  - dest: /d\n    dir: true\n    mode: 0799\n' }, errors: ["osv.yaml:5:11 files[0].mode: invalid mode \"0799\": expected octal permission bits such as 0644 (one to four digits 0-7, optionally after 0o)"] },
  { name: 'sha256 malformed', files: { 'osv.yaml': 'cmd: [a]\nkernel:\n  sha256: abc\n' }, errors: ["osv.yaml:3:11 kernel.sha256: invalid sha256 \"abc\": expected 64 lowercase hexadecimal digits"] },
  { name: 'kernel version malformed', files: { 'osv.yaml': 'cmd: [a]\nkernel:\n  version: v 0.57\n' }, errors: ['osv.yaml:3:12 kernel.version: invalid kernel version "v 0.57": expected a release tag such as v0.57.0, latest, or owner/repo@tag'] },
  { name: 'name with a space', files: { 'osv.yaml': 'cmd: [a]\nname: my app\n' }, errors: ["osv.yaml:2:7 name: invalid name \"my app\": use letters, digits, \".\", \"_\" and \"-\", starting with a letter or digit"] },
  { name: 'environment variable name', files: { 'osv.yaml': 'cmd: [a]\nenv:\n  1BAD: x\n' }, errors: ["osv.yaml:3:3 env: invalid environment variable name \"1BAD\""] },
  { name: 'run name with a space', files: { 'osv.yaml': 'cmd: [a]\nruns:\n  "a b":\n    cmd: [b]\n' }, errors: ["osv.yaml:3:3 runs: invalid run name \"a b\""] },
  // ---- modules ------------------------------------------------------------------------------
  { name: 'module directory missing', files: { 'osv.yaml': 'cmd: [a]\nmodules: [./mods/none]\n' }, errors: ["osv.yaml:2:11 modules[0]: module directory not found: ./mods/none"] },
  { name: 'directory that is not a module', files: { 'osv.yaml': 'cmd: [a]\nmodules: [./mods/empty]\n', 'mods/empty/': '' }, errors: ["osv.yaml:2:11 modules[0]: ./mods/empty is not a module: it has no osv.module.yaml or usr.manifest"] },
  { name: 'module requires a missing module', files: { 'osv.yaml': 'cmd: [a]\nmodules: [./mods/web]\n', 'mods/web/osv.module.yaml': 'requires: [libz]\n' }, errors: ["mods/web/osv.module.yaml:1:12 requires[0]: module \"web\" requires \"libz\", which is not in the image"] },
  { name: 'module file with a kernel key', files: { 'osv.yaml': 'cmd: [a]\nmodules: [./mods/m]\n', 'mods/m/osv.module.yaml': 'name: m\nkernel: {version: latest}\n' }, errors: ["mods/m/osv.module.yaml:2:1 unknown key \"kernel\""] },
  { name: 'module destination conflicts with the config', files: { 'osv.yaml': 'cmd: [a]\nfiles:\n  - dest: /etc/x\n    dir: true\nmodules: [./mods/m]\n', 'mods/m/osv.module.yaml': 'files:\n  - dest: /etc/x\n    link: /y\n' }, errors: ["mods/m/osv.module.yaml:2:11 module m: files[0]: /etc/x is already written by files[0] (osv.yaml:3:11)"] },
  // ---- discovery ------------------------------------------------------------------------------
  { name: 'package.json without osv', config: 'package.json', files: { 'package.json': '{"name": "x"}\n' }, errors: ["package.json has no \"osv\" key"] },
  { name: '-c names a missing file', config: 'nope.yaml', files: {}, errors: ["configuration file nope.yaml not found"] },
];
