/**
 * @module validate/engine
 * The TF.js half of publish validation: loading a model from memory, the probe run and the
 * golden examples, and the turn-taking around them. Imported only through `loadEngine()`
 * (lazy.ts), so TF.js is evaluated by the first validation in an isolate and by nothing else.
 * Nothing here may import `@modelfleet/protocol` at run time (types are fine): a module this
 * one reaches that the rest of the Worker also uses would be initialised lazily too, at a cost
 * to every isolate's start-up (lazy.ts says why).
 */
export { checkGolden, exampleTensors, goldenFits } from './golden.ts';
export { disposeModel, loadFromMemory } from './load.ts';
export { probe, probeInputs } from './probe.ts';
export { exclusive } from './tfjs-runtime.ts';
export { predictRows } from './predict-rows.ts';
