/**
 * @module @modelfleet/mobile-bridge
 * The React Native bridge (issue 7) will host the web SDK in a WebView; it shares the SPEC
 * client steps of the protocol package, re-exported here for native-side checks.
 */
export { verifyChunk, verifyManifest, verifyTicket } from '@modelfleet/protocol';
