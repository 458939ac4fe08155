/** @jsxImportSource react */
/**
 * @module react/provider
 * `<ModelFleetProvider config>` mounts the hidden WebView that runs the web SDK and gives its
 * bridge client to `useModel(name)` below it. The WebView is 0×0 and inert to touch; if its
 * content process dies (iOS) or it reloads, pending calls fail with `bridge_closed` and the next
 * call starts over.
 */
import { type ReactNode, createContext, useContext, useEffect, useMemo, useRef } from 'react';
import { Platform, StyleSheet, View } from 'react-native';
import { WebView } from 'react-native-webview';
import { type BridgeClient, type BridgeClientOptions, createBridgeClient } from '../client.ts';
import { PAGE_BASE_URL } from '../page-origin.ts';
import { PAGE_HTML } from './page-html.gen.ts';

const BridgeContext = createContext<BridgeClient | null>(null);

export type ProviderConfig = Omit<BridgeClientOptions, 'os'> & { os?: BridgeClientOptions['os'] };

export function ModelFleetProvider({ config, children }: { config: ProviderConfig; children?: ReactNode }) {
  // Kept after unmount so the closing message still reaches the page (refs are cleared first).
  const webview = useRef<WebView | null>(null);
  const keep = (w: WebView | null) => void (w && (webview.current = w));
  const key = JSON.stringify(config); // a new configuration is a new client
  const client = useMemo(
    () =>
      createBridgeClient(
        { ...config, os: config.os ?? (Platform.OS === 'ios' || Platform.OS === 'android' ? Platform.OS : 'other') },
        { post: (raw) => webview.current?.postMessage(raw) },
      ),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [key],
  );
  useEffect(() => () => void client.close(), [client]);
  return (
    <BridgeContext.Provider value={client}>
      {children}
      <View style={styles.hidden} pointerEvents="none" importantForAccessibility="no-hide-descendants">
        <WebView
          key={key /* a new configuration gets a fresh page (and its ready) */}
          ref={keep}
          source={{ html: PAGE_HTML, baseUrl: PAGE_BASE_URL }}
          originWhitelist={['*']}
          javaScriptEnabled
          onMessage={(e) => client.receive(e.nativeEvent.data)}
          onContentProcessDidTerminate={() => client.reset('the WebView content process terminated')}
          onRenderProcessGone={() => client.reset('the WebView render process is gone')}
        />
      </View>
    </BridgeContext.Provider>
  );
}

export function useBridgeClient(): BridgeClient {
  const client = useContext(BridgeContext);
  if (!client) throw new Error('useModel needs a <ModelFleetProvider> above it');
  return client;
}

const styles = StyleSheet.create({
  hidden: { position: 'absolute', width: 0, height: 0, opacity: 0, overflow: 'hidden' },
});
