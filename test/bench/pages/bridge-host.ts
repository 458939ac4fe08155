/**
 * Bench-only script added to the bridge page: the React Native side's client (as the app runs
 * it) talking to the page through a ReactNativeWebView shim in the same page.
 */
import { type BridgeClient, createBridgeClient } from '../../../mobile-bridge/src/client.ts';
import { type Config, time } from './bench-time.ts';

const g = globalThis as any;

let model: Awaited<ReturnType<BridgeClient['load']>> | undefined;

g.benchBridge = async (c: Config) => {
  model ??= await open(c);
  return { ms: await time(() => model!.predict([c.row]), c.iterations), out: await model.predict([c.row]) };
};

async function open(c: Config) {
  let host!: BridgeClient;
  g.ReactNativeWebView = { postMessage: (m: string) => host.receive(m) };
  host = createBridgeClient(
    {
      endpoint: c.endpoint,
      appKey: c.appKey,
      trustRoot: c.trustRoot,
      os: 'android',
      backends: ['cpu'],
      pollInterval: 0,
      telemetry: false,
    },
    {
      post: (raw) => g.dispatchEvent(new MessageEvent('message', { data: raw })),
    },
  );
  host.receive(JSON.stringify({ v: 1, event: 'ready', data: {} })); // the page announced before the shim existed
  return host.load(c.model);
}
