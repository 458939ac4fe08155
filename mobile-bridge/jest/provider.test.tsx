/** @jsxImportSource react */
// The React Native component with react-native-webview mocked at its one binding (the mock hosts
// the real page server over a fake SDK): provider lifecycle, hook states, errors surfaced.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { act, create, type ReactTestRenderer } from 'react-test-renderer';
import { Text } from 'react-native';
import { ModelFleetProvider, useModel } from '../src/index.ts';
import { webviewHost } from './webview-mock.tsx';

const config = {
  endpoint: 'https://edge.example',
  appKey: 'mfa_test',
  trustRoot: '{"payloadType":"application/vnd.modelfleet.root+json"}',
  timeoutMs: 500,
};
const seen: ReturnType<typeof useModel>[] = [];

function Probe({ name }: { name: string }) {
  const m = useModel(name);
  seen.push(m);
  return <Text>{`${m.status}:${m.version ?? '-'}:${m.backend ?? '-'}:${m.error?.code ?? '-'}`}</Text>;
}
const kinds = () => webviewHost.received.map((r) => JSON.parse(r).kind);
/** Lets React and the mocked page run until `done` holds (bounded: a cold or loaded machine is slow, not broken). */
async function settle(done: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  do await act(() => new Promise((r) => setTimeout(r, 10)));
  while (!done() && Date.now() < deadline);
}
const latest = () => seen.at(-1);
let tree: ReactTestRenderer;

beforeEach(() => {
  seen.length = 0;
  webviewHost.received.length = 0;
  webviewHost.frozen = false;
});
afterEach(async () => {
  await act(() => tree?.unmount());
});

describe('ModelFleetProvider', () => {
  it('mounts one hidden WebView with the bundled page, inits once, and closes on unmount', async () => {
    await act(async () => {
      tree = create(
        <ModelFleetProvider config={config}>
          <Probe name="fraud" />
          <Probe name="fraud" />
        </ModelFleetProvider>,
      );
    });
    await settle(() => kinds().filter((k) => k === 'load').length >= 2);
    expect(webviewHost.mounted).toBe(1);
    const view = tree.root.findByProps({ testID: 'modelfleet-webview' });
    expect(view.props.accessibilityLabel).toContain('modelfleet bridge');
    expect(kinds().filter((k) => k === 'init')).toHaveLength(1);
    expect(kinds().filter((k) => k === 'load')).toHaveLength(2);
    await act(() => tree.unmount());
    expect(webviewHost.mounted).toBe(0);
    expect(kinds()).toContain('close');
  });
});

describe('useModel', () => {
  it('goes loading → ready with version and backend, and predicts through the bridge', async () => {
    await act(async () => {
      tree = create(
        <ModelFleetProvider config={config}>
          <Probe name="fraud" />
        </ModelFleetProvider>,
      );
    });
    expect(seen[0]).toMatchObject({ status: 'loading', version: null, backend: null, error: null });
    await settle(() => latest()?.status !== 'loading');
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ status: 'ready', version: 7, backend: 'webgpu', error: null });
    expect(JSON.stringify(tree.toJSON())).toContain('ready:7:webgpu:-');
    let out: unknown;
    await act(async () => {
      out = await last.predict([[1, 2.5]]);
    });
    expect(out).toEqual({ out: [[2, 5]] });
  });

  it('surfaces a load error to the app with the SDK’s code', async () => {
    await act(async () => {
      tree = create(
        <ModelFleetProvider config={config}>
          <Probe name="broken" />
        </ModelFleetProvider>,
      );
    });
    await settle(() => latest()?.status !== 'loading');
    expect(seen.at(-1)).toMatchObject({ status: 'error', error: { code: 'chunk_digest_mismatch' } });
    await expect(seen.at(-1)!.predict([[1]])).rejects.toMatchObject({ code: 'not_ready' });
  });

  it('a page that stops answering times out into an error state; a crashed WebView fails what is pending', async () => {
    webviewHost.frozen = true;
    await act(async () => {
      tree = create(
        <ModelFleetProvider config={{ ...config, timeoutMs: 50 }}>
          <Probe name="fraud" />
        </ModelFleetProvider>,
      );
    });
    await settle(() => latest()?.status !== 'loading');
    expect(seen.at(-1)).toMatchObject({ status: 'error', error: { code: 'timeout' } });

    webviewHost.frozen = false;
    // A new configuration remounts the page; it answers again.
    await act(async () =>
      tree.update(
        <ModelFleetProvider config={{ ...config, timeoutMs: 5000 }}>
          <Probe name="fraud" />
        </ModelFleetProvider>,
      ),
    );
    await settle(() => latest()?.status === 'ready');
    expect(seen.at(-1)).toMatchObject({ status: 'ready', version: 7 });
    webviewHost.frozen = true;
    const pending = seen.at(-1)!.predict([[1]]);
    await settle(() => JSON.parse(webviewHost.received.at(-1)!).kind === 'predict'); // posted; the page holds its answer
    expect(JSON.parse(webviewHost.received.at(-1)!)).toMatchObject({ kind: 'predict' });
    const failed = expect(pending).rejects.toMatchObject({ code: 'bridge_closed' });
    await act(async () => webviewHost.crash());
    await failed;
  });
});
