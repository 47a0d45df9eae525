// One concurrent registry writer, as its own process: waits until START_AT (ms since the
// epoch) so that all writers hit the server together, then does ACTION and prints JSON.
//   node registry-writer.mjs URL START_AT register NAME SHA256
//   node registry-writer.mjs URL START_AT promote NAME VERSION STAGE
import { Registry } from '../../dist/lib/index.js';

const [url, startAt, action, name, arg, stage] = process.argv.slice(2);
const registry = await Registry.open(url);
while (Date.now() < Number(startAt)) await new Promise((r) => setTimeout(r, 1));
if (action === 'register') {
  const runId = await registry.startRun({ command: 'eval', argv: [] });
  const notes = await registry.finishRun(runId, [
    { role: 'model', model: { name, sha256: arg, path: `/models/${name}` }, metrics: { 'dim_8_cosine_ndcg@10': 0.5 } },
  ]);
  process.stdout.write(JSON.stringify({ runId, notes }));
} else if (action === 'promote') {
  await registry.promote(name, Number(arg), stage);
  process.stdout.write(JSON.stringify({ promoted: Number(arg) }));
}
await registry.close();
