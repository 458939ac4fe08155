// The package builds replace dist/ in one step: other test files (and apps) read dist/ while
// `npm pack` runs the prepack build, and an in-place rebuild once wiped it under them.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDirAtomically } from '../../scripts/lib/atomic-dir.mjs';

function oldDist(): { root: string; dist: string } {
  const root = mkdtempSync(join(tmpdir(), 'atomic-dir-'));
  const dist = join(root, 'dist');
  mkdirSync(dist);
  writeFileSync(join(dist, 'sizes.json'), 'old');
  return { root, dist };
}

describe('buildDirAtomically', () => {
  it('keeps the old dist readable for the whole build, then shows only the new one', async () => {
    const { root, dist } = oldDist();
    await buildDirAtomically(dist, async (next) => {
      mkdirSync(next);
      writeFileSync(join(next, 'sizes.json'), 'new');
      await new Promise((r) => setTimeout(r, 10));
      expect(readFileSync(join(dist, 'sizes.json'), 'utf8')).toBe('old');
    });
    expect(readFileSync(join(dist, 'sizes.json'), 'utf8')).toBe('new');
    expect(readdirSync(root)).toEqual(['dist']); // no .next-/.old- leftovers
  });

  it('leaves the old dist in place, and nothing else, when the build fails', async () => {
    const { root, dist } = oldDist();
    await expect(
      buildDirAtomically(dist, async (next) => {
        mkdirSync(next);
        throw new Error('esbuild failed');
      }),
    ).rejects.toThrow('esbuild failed');
    expect(readFileSync(join(dist, 'sizes.json'), 'utf8')).toBe('old');
    expect(readdirSync(root)).toEqual(['dist']);
  });

  it('creates dist when there was none', async () => {
    const root = mkdtempSync(join(tmpdir(), 'atomic-dir-'));
    await buildDirAtomically(join(root, 'dist'), async (next) => mkdirSync(next));
    expect(existsSync(join(root, 'dist'))).toBe(true);
  });
});
