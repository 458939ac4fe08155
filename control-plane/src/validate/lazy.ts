/**
 * @module validate/lazy
 * How validation reaches TF.js: by a dynamic `import()` of engine.ts on the first publish
 * commit in an isolate. TF.js (tfjs-core, -layers, -converter and the CPU backend) is half of
 * the bundle; isolates that serve devices, the console and the rest of the API never evaluate
 * it, and keep 1.2 MiB less heap (`npm run bench`, docs/deploy.md).
 *
 * wrangler bundles one file (no code splitting), so esbuild turns the `import()` into a lazily
 * initialised part of that file: every module the import reaches is wrapped in an init function
 * that runs on first use. Were one of them shared with the eager graph (the protocol package,
 * zod), it would be wrapped too, and the whole Worker would start through those wrappers:
 * importing index.ts from here did that, and measured 3–8 ms more start-up than no lazy import
 * at all. engine.ts reaches TF.js and validation's own TF.js modules only.
 * `test/registry/lazy-tfjs.test.ts` checks in workerd that a serving isolate has no TF.js.
 *
 * @example
 * const engine = await loadEngine();
 * const outcome = await engine.loadFromMemory(format, modelJson, weightData);
 */
let engine: Promise<typeof import('./engine.ts')> | undefined;

export function loadEngine(): Promise<typeof import('./engine.ts')> {
  engine ??= import('./engine.ts');
  return engine;
}
