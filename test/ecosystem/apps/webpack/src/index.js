// A webpack 5 app using the packed @modelfleet/web-sdk: load a model from the control plane named
// in /config.json, predict, show what came back.
import { createClient } from '@modelfleet/web-sdk';

async function main() {
  const config = await (await fetch('/config.json')).json();
  const client = await createClient({ ...config, backends: ['cpu'], pollInterval: 0 });
  const model = await client.load(config.model);
  const inputs = {};
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
  document.body.append(
    Object.assign(document.createElement('pre'), { textContent: JSON.stringify(window.result, null, 2) }),
  );
}

main().catch((e) => {
  window.result = { error: `${e.code ?? 'error'}: ${e.message ?? String(e)}` };
});
