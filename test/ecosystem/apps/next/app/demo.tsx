'use client';
// The packed @modelfleet/web-sdk in a client component: imported on the server too (pre-render),
// used only in the browser, in an effect.
import { type BrowserClientOptions, type TensorInput, createClient } from '@modelfleet/web-sdk';
import { useEffect, useState } from 'react';

type Config = Pick<BrowserClientOptions, 'endpoint' | 'appKey' | 'trustRoot'> & { model: string };
declare global {
  interface Window {
    result?: unknown;
  }
}

async function run(): Promise<unknown> {
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
  return {
    version: model.version,
    backend: model.backend,
    state: (await client.status())[config.model]?.state,
    outputs: Object.fromEntries(
      Object.entries(outputs).map(([name, t]) => [name, { shape: t.shape, head: Array.from(t.data.slice(0, 8)) }]),
    ),
  };
}

export default function Demo() {
  const [text, setText] = useState('loading…');
  useEffect(() => {
    run()
      .catch((e: { code?: string; message?: string }) => ({ error: `${e.code ?? 'error'}: ${e.message ?? String(e)}` }))
      .then((result) => {
        window.result = result;
        setText(JSON.stringify(result, null, 2));
      });
  }, []);
  return <pre id="out">{text}</pre>;
}
