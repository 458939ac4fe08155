// docs/architecture.md §1: protocol/ runs unchanged in workerd, browsers, React Native and Node.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const dir = import.meta.dirname;
const imports = new Map(
  readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((file) => [
      file,
      [...readFileSync(join(dir, file), 'utf8').matchAll(/(?:from |import |import\()'([^']+)'/g)].map((m) => m[1]!),
    ]),
);
const ZOD = ['zod', 'zod/mini', 'zod/v4/locales/en.js'];

it('protocol/src imports nothing but zod and itself', () => {
  const offenders = [...imports].flatMap(([file, specs]) =>
    specs.filter((s) => !ZOD.includes(s) && !s.startsWith('./')).map((s) => `${file}: ${s}`),
  );
  expect(offenders).toEqual([]);
});

// The device-side formats (envelope, root, ticket, manifest…) are zod/mini so that a browser
// bundle carries zod's core only (web-sdk/test/bundle-size.test.ts measures it). One classic
// import reachable from them would bring all of classic zod back onto every page.
it('no module written in zod/mini reaches classic zod through its imports', () => {
  const reaches = (file: string, seen = new Set<string>()): string | null => {
    if (seen.has(file)) return null;
    seen.add(file);
    for (const spec of imports.get(file) ?? []) {
      if (spec === 'zod') return file;
      if (spec.startsWith('./')) {
        const via = reaches(spec.slice(2), seen);
        if (via) return via;
      }
    }
    return null;
  };
  const mini = [...imports].filter(([, specs]) => specs.includes('zod/mini')).map(([file]) => file);
  expect(mini.length).toBeGreaterThan(5);
  expect(mini.map((file) => [file, reaches(file)]).filter(([, via]) => via)).toEqual([]);
});
