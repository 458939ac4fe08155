/**
 * @module react/use-model
 * `useModel(name)` → `{ status, version, backend, error, predict, reload }`: loads the model
 * through the provider's bridge once per name; errors arrive as `{ code, message }` with the web
 * SDK's codes (bad_signature, chunk_digest_mismatch, offline, …) or the bridge's (timeout, …).
 */
import { useCallback, useEffect, useState } from 'react';
import type { CallOptions } from '../endpoint.ts';
import type { BridgeModel } from '../client.ts';
import { useBridgeClient } from './provider.tsx';

export type ModelState =
  | { status: 'loading'; version: null; backend: null; error: null }
  | { status: 'ready'; version: number; backend: string; error: null }
  | { status: 'error'; version: number | null; backend: string | null; error: { code: string; message: string } };

const LOADING: ModelState = { status: 'loading', version: null, backend: null, error: null };
const asError = (e: unknown) => ({
  code: (e as { code?: string }).code ?? 'internal',
  message: (e as Error).message ?? String(e),
});

export function useModel(name: string) {
  const client = useBridgeClient();
  const [model, setModel] = useState<BridgeModel | null>(null);
  const [state, setState] = useState<ModelState>(LOADING);

  useEffect(() => {
    let live = true;
    setState(LOADING);
    setModel(null);
    client.load(name).then(
      (m) => {
        if (!live) return;
        setModel(m);
        setState({ status: 'ready', version: m.version, backend: m.backend, error: null });
      },
      (e) => live && setState({ status: 'error', version: null, backend: null, error: asError(e) }),
    );
    return () => {
      live = false;
    };
  }, [client, name]);

  const predict = useCallback(
    (inputs: unknown, options?: CallOptions) => {
      if (!model)
        return Promise.reject(
          Object.assign(new Error(`${name} is not loaded yet (status ${state.status})`), { code: 'not_ready' }),
        );
      return model.predict(inputs, options);
    },
    [model, name, state.status],
  );

  const reload = useCallback(async () => {
    if (!model) return null;
    try {
      const r = await model.reload();
      setState({ status: 'ready', version: model.version, backend: model.backend, error: null });
      return r;
    } catch (e) {
      setState({ status: 'error', version: model.version, backend: model.backend, error: asError(e) });
      return null;
    }
  }, [model]);

  return { ...state, predict, reload };
}
