/**
 * @module page-origin
 * The address the hidden WebView gives the bundled page (react-native-webview's `baseUrl`). It
 * must be https: WebCrypto (signature and digest checks) and a persistent IndexedDB need a secure
 * context. `.invalid` never resolves (RFC 6761), so nothing is ever fetched from it; it is only
 * the page's origin, which the edge's CORS answers like any web app's. Because that origin is
 * public, the page reaches a control plane on https (or, in WebViews without Chromium's Local
 * Network Access checks, on loopback) — see examples/react-native/README.md.
 */
export const PAGE_BASE_URL = 'https://modelfleet.invalid/';
