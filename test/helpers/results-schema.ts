// results.json against the JSON Schema the package ships (schema/results.schema.json), with Ajv.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ajv from 'ajv';
import { ROOT } from './shared.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'results.schema.json'), 'utf8'));
// ajv is CommonJS: its class is the module's default export under Node's ESM interop
const Ajv = ajv.default as unknown as typeof ajv.Ajv;
const validate = new Ajv({ allErrors: true }).compile(schema);

/** What is wrong with `json` as a results.json, one line each; [] when it is valid. */
export function resultsSchemaErrors(json: unknown): string[] {
  if (validate(json)) return [];
  return (validate.errors ?? []).map((e: ajv.ErrorObject) => `${e.instancePath || '/'} ${e.message}`);
}

/** Every results.json under the test run's temporary folders (emb-*) modified since `since`. */
export function resultsFilesSince(since: number, root = tmpdir()): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      let st: ReturnType<typeof statSync>;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (st.isDirectory() && depth < 4 && !name.startsWith('.emb-bench-partial')) walk(path, depth + 1);
      else if (name === 'results.json' && st.mtimeMs >= since) found.push(path);
    }
  };
  for (const name of readdirSync(root)) if (name.startsWith('emb-')) walk(join(root, name), 1);
  return found;
}
