/** Vitest global setup: bundle the Worker once for every suite that starts it. */
import { bundleWorker } from './bundle.ts';

export default function setup(): void {
  bundleWorker();
}
