/** @jsxImportSource react */
/**
 * A stand-in for react-native-webview's WebView: renders a View, and behind `postMessage` runs
 * the bridge's real page server over a fake SDK (jest/fake-sdk.ts), answering through the
 * component's `onMessage` prop the way the native side would. Tests steer it via `webviewHost`.
 */
import { forwardRef, useEffect, useImperativeHandle, useRef } from 'react';
import { View } from 'react-native';
import { createPageServer } from '../src/webview/serve.ts';
import { fakeSdk } from './fake-sdk.ts';

type Props = {
  source: { html: string };
  onMessage?: (e: { nativeEvent: { data: string } }) => void;
  onRenderProcessGone?: () => void;
  onContentProcessDidTerminate?: () => void;
};

export const webviewHost = {
  mounted: 0,
  received: [] as string[],
  /** Simulates the native side losing the page. */
  crash: () => {},
  /** Holds the page's answers while true (requests pile up unanswered). */
  frozen: false,
};

export const WebView = forwardRef(function WebView(props: Props, ref) {
  const onMessage = useRef(props.onMessage);
  onMessage.current = props.onMessage;
  const server = useRef<ReturnType<typeof createPageServer> | null>(null);
  if (!server.current) {
    server.current = createPageServer(
      (raw) => {
        if (!webviewHost.frozen) setTimeout(() => onMessage.current?.({ nativeEvent: { data: raw } }), 0);
      },
      async () => fakeSdk(),
    );
  }
  useImperativeHandle(ref, () => ({
    postMessage(raw: string) {
      webviewHost.received.push(raw);
      server.current!.receive(raw);
    },
  }));
  useEffect(() => {
    webviewHost.mounted++;
    webviewHost.crash = () => props.onRenderProcessGone?.();
    server.current!.announce();
    return () => void webviewHost.mounted--;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return <View testID="modelfleet-webview" accessibilityLabel={props.source.html.slice(0, 40)} />;
});
