// npm run bench -- <score|scale|exact|auto|bound|encode|e2e|ui|shards|training|suite|quantized|all> (or: ab BEFORE.node AFTER.node [reps]): figures beside their baselines, from one run;
// each writes bench/results/<name>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { scoreBench } from './score.js';

const which = process.argv[2] ?? 'score';
const benches = {
  score: () => scoreBench('score'),
  scale: () => scoreBench('scale'),
  exact: async () => (await import('./exact.js')).exactBench(),
  auto: async () => (await import('./auto.js')).autoBench(),
  bound: async () => (await import('./bound.js')).boundBench(),
  encode: async () => (await import('./encode.js')).encodeBench(),
  e2e: async () => (await import('./e2e.js')).e2eBench(),
  ui: async () => (await import('./ui.js')).uiBench(),
  shards: async () => (await import('./shards.js')).shardsBench(),
  training: async () => (await import('./training.js')).trainingBench(),
  suite: async () => (await import('./suite.js')).suiteBench(),
  quantized: async () => (await import('./quantized.js')).quantizedBench(),
  ab: async () => (await import('./ab.js')).abBench(process.argv.slice(3)),
};
const names = which === 'all' ? Object.keys(benches).filter((n) => n !== 'ab') : [which];
for (const name of names) {
  if (!benches[name]) {
    console.error(`unknown benchmark "${name}" (available: ${Object.keys(benches).join(', ')}, all)`);
    process.exit(2);
  }
  console.log(`== ${name}`);
  const result = await benches[name]();
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/${name}.json`, import.meta.url), JSON.stringify(result, null, 2) + '\n');
}
