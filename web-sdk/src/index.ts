/**
 * @module @modelfleet/web-sdk
 * The browser SDK (issue 3) builds on the SPEC client steps below; until it lands, this package
 * exposes only those steps so that an app can verify tickets, manifests and chunks itself.
 */
export { checkManifestMatchesTicket, checkSizeCaps, updateRoot, verifyChunk, verifyManifest, verifyTicket } from '@modelfleet/protocol';
