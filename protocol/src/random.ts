/**
 * @module random
 * Seeded generators for what must be reproducible — simulations, tests, and the bootstrap
 * intervals of released effect sizes (recomputed from public numbers), and the release noise of
 * simulations. Never for privacy noise that is released, or the device's randomized PIT: those
 * use the platform CSPRNG.
 */

/** A seeded uniform generator on [0, 1) (mulberry32). */
export function seededUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded N(0, 1) draws (Box–Muller, both values used) over `uniform`. */
export function normalFrom(uniform: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const a = 2 * Math.PI * uniform();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

export const seededNormal = (seed: number) => normalFrom(seededUniform(seed));

/**
 * One N(0, 1) draw per two uniforms (Box–Muller, cosine only). The rollout simulations and
 * several tests were seeded with this form, and their published figures (docs/rollouts.md)
 * reproduce only with it, so it stays beside `normalFrom`, which uses both values of a pair.
 */
export function boxMuller(uniform: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform());
}

/**
 * Seeded uniform 32-bit words (the same mulberry32 stream as `seededUniform`, before scaling):
 * the discrete Gaussian release noise's source in reproducible simulations and tests.
 */
export function seededWords(seed: number): () => number {
  const uniform = seededUniform(seed);
  return () => uniform() * 4294967296; // exact: uniform() is a word divided by 2³²
}
