// Builds a package's dist/ beside it and swaps it into place at the end, so a reader never sees a
// half-built or missing dist/: `npm pack` runs the prepack build while other test files (and a
// developer's running app) read the same dist/ — an in-place rebuild wiped it under them.
import { existsSync, renameSync, rmSync } from 'node:fs';

/** Runs `build(dir)` into a fresh sibling of `dist`, then replaces `dist` with it (two renames). */
export async function buildDirAtomically(dist, build) {
  const next = `${dist}.next-${process.pid}`;
  const old = `${dist}.old-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  try {
    await build(next);
  } catch (error) {
    rmSync(next, { recursive: true, force: true });
    throw error;
  }
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(next, dist);
  rmSync(old, { recursive: true, force: true });
}
