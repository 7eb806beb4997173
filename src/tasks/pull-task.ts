// The image pull as a listr2 task: the manifest, then one subtask per layer with its bytes
// (a few at once), then the image opened for planning. Under --json each step is an event;
// in plain mode (CI) a layer says its size when done, not every chunk.

import type { ListrTask, ListrTaskWrapper } from 'listr2';
import type { Config } from '../config/types.js';
import { shortDigest } from '../oci/digest.js';
import { platformFor } from '../oci/manifest.js';
import { finishPull, planPull, pullLayer, type PullPlan } from '../oci/pull.js';
import type { ImageSource } from '../oci/source.js';
import { formatBytes, plural } from '../units.js';
import { prepareImage, sourceFor, storeFor, type ImageChoice, type PreparedImage } from './from-image.js';
import type { Reporter } from './report.js';

export interface PullTaskOptions {
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  signal?: AbortSignal;
}

export function pullTask<C>(config: Config, choice: ImageChoice, o: PullTaskOptions, done: (c: C, p: PreparedImage) => void): ListrTask<C> {
  const from = config.from!;
  const store = storeFor(o.env);
  const title = `Image ${from.text} (${shortDigest(choice.digest)}${choice.locked ? ', locked' : ''})`;
  let source: ImageSource | undefined;
  let plan: PullPlan | undefined;
  const getSource = async (): Promise<ImageSource> => (source ??= await sourceFor(config, o));
  return {
    title,
    task: async (_c, task) => {
      // A cached image needs no source at all: no network, no archive read.
      plan = await planPull({ label: from.text, resolve: unused, manifest: async (d) => (await getSource()).manifest(d), blob: async (d, s) => (await getSource()).blob(d, s) }, choice.digest, platformFor(config.arch), store);
      const missing = plan.layers.filter((l) => !l.cached);
      const total = plan.layers.reduce((s, l) => s + l.size, 0);
      task.title = `${title}: ${plural(plan.layers.length, 'layer')}, ${formatBytes(total)}${missing.length === 0 ? ', cached' : `, pulling ${missing.length}`}`;
      o.reporter.emit({ event: 'pull', image: from.text, digest: choice.digest, layers: plan.layers.map((l) => ({ digest: l.digest, size: l.size, cached: l.cached })) });
      const layers: ListrTask<C>[] = missing.map((l) => ({
        title: `layer ${l.index + 1}/${plan!.layers.length} ${shortDigest(l.digest)} (${formatBytes(l.size)})`,
        task: async (_c2, lt) => {
          const t0 = performance.now();
          let shown = -1;
          const onBytes = (n: number): void => {
            const tenth = Math.floor((n / Math.max(1, l.size)) * 10);
            if (tenth === shown) return;
            shown = tenth;
            if (o.reporter.mode === 'tty') lt.output = `${formatBytes(n)} / ${formatBytes(l.size)}`;
            o.reporter.emit({ event: 'pull', layer: l.index + 1, digest: l.digest, bytes: n, total: l.size });
          };
          await pullLayer(await getSource(), plan!, l.index, store, onBytes, o.signal);
          const ms = Math.round(performance.now() - t0);
          lt.title = `layer ${l.index + 1}/${plan!.layers.length} ${shortDigest(l.digest)}: ${formatBytes(l.size)} in ${ms} ms`;
          o.reporter.emit({ event: 'pull', layer: l.index + 1, digest: l.digest, status: 'done', ms });
        },
      }));
      return task.newListr<C>(
        [
          ...(layers.length > 0 ? [{ title: 'Layers', task: (_c2: C, lt: ListrTaskWrapper<C, never, never>) => lt.newListr(layers, { concurrent: 3, exitOnError: true }) } as ListrTask<C>] : []),
          {
            title: 'Open',
            task: (c2, ot) => {
              finishPull(plan!, store);
              const prepared = prepareImage(config, choice, o.env);
              done(c2, prepared);
              ot.title = `Opened ${from.text}: ${prepared.image.config.os}/${prepared.image.config.architecture}${prepared.image.notes.length > 0 ? `; ${prepared.image.notes.join('; ')}` : ''}`;
            },
          },
        ],
        { concurrent: false, exitOnError: true },
      );
    },
  };
}

const unused = (): never => {
  throw new Error('internal: the digest is already chosen');
};
