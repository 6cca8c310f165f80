import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// Runs every ```ts example of docs/resilience.md, so the documentation cannot drift from the code.
// The package imports are pointed at the sources; each example asserts its own results.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const markdown = readFileSync(path.join(root, 'docs/resilience.md'), 'utf8');
const examples = [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = mkdtempSync(path.join(os.tmpdir(), 'raftwire-resilience-docs-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/resilience.md examples', () => {
  it('has one example per class', () => {
    expect(examples.length).toBe(4);
  });

  examples.forEach((source, i) => {
    const heading = markdown.slice(0, markdown.indexOf(source)).match(/^## (.+)$/gm)?.pop() ?? `example ${i}`;
    it(`runs the example under "${heading.replace('## ', '')}"`, async () => {
      const code = source
        .replaceAll("'raftwire/resilience'", `'${pathToFileURL(path.join(root, 'src/resilience/index.ts')).href}'`)
        .replaceAll("'raftwire/util'", `'${pathToFileURL(path.join(root, 'src/util/index.ts')).href}'`);
      const file = path.join(dir, `example-${i}.ts`);
      writeFileSync(file, `${code}\nexport {};\n`);
      const log = console.log;
      console.log = () => undefined; // the retry example narrates its retries
      try {
        await import(pathToFileURL(file).href);
      } finally {
        console.log = log;
      }
    });
  });
});
