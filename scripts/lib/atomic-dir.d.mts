/** Runs `build(dir)` into a fresh sibling of `dist`, then replaces `dist` with it (two renames). */
export function buildDirAtomically(dist: string, build: (dir: string) => Promise<void>): Promise<void>;
