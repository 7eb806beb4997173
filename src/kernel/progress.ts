// How a kernel download shows while it runs: a bar redrawn in place on a terminal, one line per
// asset elsewhere (a log or CI keeps no carriage returns). Written to stderr by the callers, so
// a command's own output stays clean.

import { formatBytes } from '../units.js';

export type DownloadProgress = (bytes: number, total: number | undefined, asset: string) => void;

export interface ProgressView {
  onProgress: DownloadProgress;
  /** Ends the last line (call once the downloads are over, whatever their outcome). */
  done(): void;
}

const WIDTH = 30;

export function downloadProgress(out: { write(s: string): unknown }, tty: boolean): ProgressView {
  let current: string | undefined;
  let open = false;
  return {
    onProgress(bytes, total, asset) {
      if (!tty) {
        if (asset !== current) out.write(`downloading ${asset}${total ? ` (${formatBytes(total)})` : ''}\n`);
        current = asset;
        return;
      }
      if (asset !== current && open) out.write('\n');
      current = asset;
      const filled = total ? Math.min(WIDTH, Math.round((bytes / total) * WIDTH)) : 0;
      const bar = total ? `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ` : '';
      out.write(`\r${asset} ${bar}${formatBytes(bytes)}${total ? ` / ${formatBytes(total)}` : ''}   `);
      open = true;
    },
    done() {
      if (open) out.write('\n');
      open = false;
    },
  };
}
