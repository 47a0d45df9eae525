// Progress on stderr, only on a TTY: a single rewritten line with rate and ETA.
export interface Progress {
  tick(done: number): void;
  end(): void;
}

export function progress(label: string, total: number, unit: string, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled || total === 0) return { tick() {}, end() {} };
  const start = performance.now();
  let last = 0;
  const draw = (done: number) => {
    const secs = (performance.now() - start) / 1000;
    const rate = done / Math.max(secs, 1e-3);
    const eta = rate > 0 ? (total - done) / rate : 0;
    const width = 24;
    const filled = Math.round((width * done) / total);
    process.stderr.write(
      `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${unit} ${rate.toFixed(0)} ${unit}/s ETA ${eta.toFixed(0)}s  `,
    );
  };
  return {
    tick(done) {
      const now = performance.now();
      if (now - last < 100 && done < total) return;
      last = now;
      draw(done);
    },
    end() {
      process.stderr.write('\r\x1b[2K');
    },
  };
}
