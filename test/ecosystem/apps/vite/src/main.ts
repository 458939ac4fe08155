// A Vite (vanilla-ts) app using the packed @modelfleet/web-sdk as any app would: load a model
// from the control plane named in /config.json, predict, show what came back.
import { type BrowserClientOptions, type TensorInput, createClient } from '@modelfleet/web-sdk';

type Config = Pick<BrowserClientOptions, 'endpoint' | 'appKey' | 'trustRoot'> & { model: string };
declare global {
  interface Window {
    result?: unknown;
  }
}

async function main(): Promise<void> {
  const config = (await (await fetch('/config.json')).json()) as Config;
  const client = await createClient({ ...config, backends: ['cpu'], pollInterval: 0 });
  const model = await client.load(config.model);
  const inputs: Record<string, TensorInput> = {};
  for (const spec of model.io.inputs) {
    const shape = spec.shape.map((d) => d ?? 1);
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => ((i * 2654435761) % 256) / 255);
    inputs[spec.name] = { data, shape };
  }
  const outputs = await model.predict(inputs);
  window.result = {
    version: model.version,
    backend: model.backend,
    state: (await client.status())[config.model]?.state,
    outputs: Object.fromEntries(
      Object.entries(outputs).map(([name, t]) => [name, { shape: t.shape, head: Array.from(t.data.slice(0, 8)) }]),
    ),
  };
  document.querySelector('#out')!.textContent = JSON.stringify(window.result, null, 2);
}

main().catch((e: { code?: string; message?: string }) => {
  window.result = { error: `${e.code ?? 'error'}: ${e.message ?? String(e)}` };
});
