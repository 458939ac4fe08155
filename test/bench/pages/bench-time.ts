/** Shared by the bench page scripts: mean ms per call after a warm-up. */
export interface Config {
  endpoint: string;
  appKey: string;
  trustRoot: string;
  model: string;
  row: number[];
  iterations: number;
}

export async function time(fn: () => Promise<unknown>, iterations: number): Promise<number> {
  for (let i = 0; i < 20; i++) await fn();
  const t = performance.now();
  for (let i = 0; i < iterations; i++) await fn();
  return (performance.now() - t) / iterations;
}
