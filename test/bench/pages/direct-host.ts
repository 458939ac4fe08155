/** Bench-only: the web SDK called directly with the same inline engine the bridge page uses (the anchor). */
import { createClient } from '@modelfleet/web-sdk/client';
import { createEngine } from '@modelfleet/web-sdk/engine';
import { type Config, time } from './bench-time.ts';

let model: { predict(input: number[][]): Promise<unknown> } | undefined;

(globalThis as any).benchDirect = async (c: Config) => {
  model ??= await (
    await createClient({
      endpoint: c.endpoint,
      appKey: c.appKey,
      trustRoot: c.trustRoot,
      runner: createEngine(),
      backends: ['cpu'],
      pollInterval: 0,
      telemetry: false,
      storage: 'bench-direct',
    })
  ).load(c.model);
  return { ms: await time(() => model!.predict([c.row]), c.iterations), out: await model.predict([c.row]) };
};
