// A TCP proxy that holds every piece of data for DELAY_MS before passing it on, both ways: a
// registry on this machine, as far away as one across a network (a round trip of 2 x DELAY_MS
// more), with the bandwidth of loopback. Used by bench/push.ts; a process of its own, since the
// bench waits for the tools it times with spawnSync.
// Usage: node bench/delay-proxy.cjs LISTEN_PORT TARGET_PORT DELAY_MS   (prints "ready" once listening)
'use strict';
const net = require('node:net');

const [listenPort, targetPort, delayMs] = process.argv.slice(2).map(Number);

/** Pass what `from` sends on to `to`, each piece (and the end) DELAY_MS after it came, in order. */
function delayed(from, to) {
  const queue = [];
  let timer;
  const flush = () => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && queue[0].at <= now) {
      const { data } = queue.shift();
      if (data === undefined) to.end();
      else if (!to.destroyed) to.write(data);
    }
    if (queue.length > 0) timer = setTimeout(flush, queue[0].at - now);
  };
  const later = (data) => {
    queue.push({ at: Date.now() + delayMs, data });
    timer ??= setTimeout(flush, delayMs);
  };
  from.on('data', (data) => later(data));
  from.on('end', () => later(undefined));
}

net
  .createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    delayed(client, upstream);
    delayed(upstream, client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  })
  .listen(listenPort, '127.0.0.1', () => process.stdout.write('ready\n'));
