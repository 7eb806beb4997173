// A project whose run has every kind of volume: a disk image of the build machine (./scratch.img,
// which a pushed image does not carry), a writable named volume seeded from ./seed (data, at
// /data, with hello.txt holding `seeded`) and a read-only one from ./conf (conf, at /etc/app,
// app.conf holding mode=ro). Its program is compiled from `source`; `run` adds run settings.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from './image-rootfs.js';

export function volumeProject(app: string, opts: { source: string; cmd: string; seeded: string; run?: string }): void {
  mkdirSync(join(app, 'seed'), { recursive: true });
  compile(app, 'show', opts.source);
  writeFileSync(join(app, 'seed', 'hello.txt'), `${opts.seeded}\n`);
  mkdirSync(join(app, 'conf'));
  writeFileSync(join(app, 'conf', 'app.conf'), 'mode=ro\n');
  writeFileSync(join(app, 'scratch.img'), Buffer.alloc(2 ** 20));
  writeFileSync(
    join(app, 'osv.yaml'),
    `name: show\ncmd: ${opts.cmd}\nrun:\n${opts.run ?? ''}  volumes: [./scratch.img, {name: data, dest: /data, size: 32M, from: ./seed}, {name: conf, dest: /etc/app, readonly: true, from: ./conf}]\n`,
  );
}
