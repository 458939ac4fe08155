// `npm run check:cycles`: no import cycle among the workspaces' sources, type imports included —
// a cycle of types still ties the modules' meanings together (issue 18: env.ts ↔ the Durable
// Object classes). madge resolves the workspace packages through tsconfig's paths.
import { resolve } from 'node:path';
import madge from 'madge';

const ROOT = resolve(import.meta.dirname, '..');
const PACKAGES = ['protocol', 'server-shared', 'edge-runtime', 'control-plane', 'web-sdk', 'mobile-bridge'];

const result = await madge(
  PACKAGES.map((p) => resolve(ROOT, p)),
  {
    baseDir: ROOT,
    fileExtensions: ['ts', 'tsx'],
    tsConfig: resolve(ROOT, 'tsconfig.json'),
    excludeRegExp: [/\.gen\.ts$/, /[\\/]node_modules[\\/]/, /[\\/]dist[\\/]/],
    // skipTypeImports false: `import type` and `import('…').T` count as edges.
    detectiveOptions: {
      ts: { skipTypeImports: false, skipAsyncImports: false },
      tsx: { skipTypeImports: false, skipAsyncImports: false },
    },
  },
);

const files = Object.keys(result.obj()).length;
const cycles = result.circular();
// A misconfiguration that finds no files would otherwise pass as "no cycles".
if (files < 100) {
  console.error(`check-cycles: only ${files} files found; is the configuration right?`);
  process.exit(1);
}
if (cycles.length > 0) {
  console.error(`check-cycles: ${cycles.length} import cycle(s), type imports included:`);
  for (const cycle of cycles) console.error(`  ${[...cycle, cycle[0]].join(' → ')}`);
  process.exit(1);
}
console.log(`check-cycles: no import cycle in ${files} files`);
