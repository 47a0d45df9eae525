// SIGINT / SIGTERM: run the registered clean-ups (mark a registry run interrupted, ...), say so
// on stderr, and exit at once with 130 / 143. Finished work (cache records, renamed output
// files) stays; nothing half-written does, since every output is written then renamed.
const cleanups = new Set<(signal: NodeJS.Signals) => void>();
let installed = false;

export function onInterrupt(cleanup: (signal: NodeJS.Signals) => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

export function installInterruptHandler(): void {
  if (installed) return;
  installed = true;
  const handle = (signal: NodeJS.Signals) => {
    for (const c of cleanups) {
      try {
        c(signal);
      } catch {
        /* keep exiting */
      }
    }
    process.stderr.write(`emb-bench: interrupted (${signal})\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
