/**
 * @module validate/lazy
 * The one way into publish validation from the rest of the Worker. Validation needs TF.js
 * (tfjs-core, -layers, -converter and the CPU backend: about half the bundle), and evaluating
 * it costs a new isolate tens of milliseconds of CPU before its first response. Only a publish
 * commit validates, so the module is imported when the first commit in an isolate needs it:
 * isolates that serve devices, the console and the rest of the API never evaluate TF.js.
 *
 * The bundler keeps one file (wrangler does not split chunks); the dynamic `import()` becomes a
 * lazily initialised module inside it, so the code ships but does not run at start-up.
 * `test/registry/lazy-tfjs.test.ts` checks that in workerd.
 *
 * @example
 * const { validateModel } = await loadValidator();
 */
let validator: Promise<typeof import('./index.ts')> | undefined;

export function loadValidator(): Promise<typeof import('./index.ts')> {
  validator ??= import('./index.ts');
  return validator;
}
