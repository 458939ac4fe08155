/**
 * @module app-keys
 * The shape of an app's device key: the edge checks it on every request, the control plane mints
 * and rotates keys (control-plane/src/registry/app-keys.ts).
 */

/** Every app key starts with this; anything else is refused before a lookup. */
export const APP_KEY_PREFIX = 'mfa_';
