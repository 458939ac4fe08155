/**
 * @module @modelfleet/react-native
 * The web SDK on phones: `<ModelFleetProvider config>` runs it in a hidden WebView, `useModel`
 * loads and predicts, `createBridgeClient` is the imperative API. See README.md.
 */
export { ModelFleetProvider, useBridgeClient, type ProviderConfig } from './react/provider.tsx';
export { useModel, type ModelState } from './react/use-model.ts';
export { createBridgeClient, type BridgeClient, type BridgeClientOptions, type BridgeModel } from './client.ts';
export { BridgeError, BRIDGE_ERROR_CODES, type BridgeErrorCode } from '@modelfleet/protocol/bridge';
