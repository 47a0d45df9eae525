// Progress on stderr, only on a TTY: one rewritten line per task, with rate and ETA.
import type { ProgressEvent, ProgressListener } from '../lib/index.js';

export function progressBar(enabled = process.stderr.isTTY === true): ProgressListener {
  if (!enabled) return () => {};
  let current: { label: string; start: number; last: number } | null = null;
  return (e: ProgressEvent) => {
    const now = performance.now();
    if (!current || current.label !== e.label || e.done === 0) current = { label: e.label, start: now, last: 0 };
    if (e.total === 0 || (now - current.last < 100 && e.done < e.total)) return;
    current.last = now;
    if (e.done >= e.total) {
      process.stderr.write('\r\x1b[2K');
      return;
    }
    const secs = (now - current.start) / 1000;
    const rate = e.done / Math.max(secs, 1e-3);
    const eta = rate > 0 ? (e.total - e.done) / rate : 0;
    const width = 24;
    const filled = Math.round((width * e.done) / e.total);
    process.stderr.write(
      `\r${e.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.done}/${e.total} ${e.unit} ${rate.toFixed(0)} ${e.unit}/s ETA ${eta.toFixed(0)}s  `,
    );
  };
}
