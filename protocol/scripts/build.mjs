// Builds protocol/dist for the published @modelfleet/protocol: one ESM file per entry (shared code
// split into chunks, zod left to the consumer's bundler as a dependency) and .d.ts declarations.
// Runs on prepack; the repository itself imports the sources (tsconfig paths).
import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { buildDirAtomically } from '../../scripts/lib/atomic-dir.mjs';
import { emitDeclarations } from '../../scripts/lib/declarations.mjs';

const pkg = resolve(import.meta.dirname, '..');
await buildDirAtomically(join(pkg, 'dist'), async (dist) => {
  await build({
    entryPoints: {
      index: join(pkg, 'src/index.ts'),
      bridge: join(pkg, 'src/bridge.ts'),
      testing: join(pkg, 'src/testing.ts'),
    },
    outdir: dist,
    bundle: true,
    splitting: true,
    format: 'esm',
    target: 'es2022',
    platform: 'neutral',
    external: ['zod'],
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  emitDeclarations(join(pkg, 'tsconfig.build.json'), join(dist, 'types'));
  copyFileSync(join(pkg, '../LICENSE'), join(dist, 'LICENSE'));
});
