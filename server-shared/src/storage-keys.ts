/**
 * @module storage-keys
 * Where content-addressed objects live in R2: the edge serves them, the control plane writes,
 * checks and repairs them, so both name them here.
 */

/** R2 keys of content-addressed objects. */
export const r2Key = {
  chunk: (digest: string) => `chunks/${digest}`,
  manifest: (digest: string) => `manifests/${digest}`,
};
