// Vitest global setup: after every test file has run, every results.json the tests made (in
// their emb-* temporary folders) must match the JSON Schema the package ships.
import { readFileSync } from 'node:fs';
import { resultsFilesSince, resultsSchemaErrors } from './results-schema.js';

export function setup(): () => void {
  const start = Date.now();
  return () => {
    const files = resultsFilesSince(start);
    const bad = files.flatMap((file) => {
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        return []; // a test's deliberately damaged file
      }
      const errors = resultsSchemaErrors(json);
      return errors.length ? [`${file}: ${errors.slice(0, 3).join('; ')}`] : [];
    });
    if (bad.length) {
      // a failure of the run itself (vitest reports an error thrown here but exits 0)
      process.stderr.write(`results.json schema: ${bad.length} of ${files.length} files do not match schema/results.schema.json:\n${bad.join('\n')}\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`results.json schema: ${files.length} files the tests wrote, all valid\n`);
  };
}
