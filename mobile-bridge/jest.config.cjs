// The React Native component suite: jest 29 with React Native's preset (vitest runs the protocol
// and the page). react-native-webview is replaced at its one binding by jest/webview-mock.tsx,
// which hosts the real page server over a fake SDK; the generated 1.6 MB page is stubbed.
// Workspace packages resolve to their sources, as tsconfig's paths say (their exports point at builds).
const { workspaceSources } = require('../scripts/lib/workspace-sources.mjs');
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const sources = Object.fromEntries(Object.entries(workspaceSources()).map(([k, v]) => [`^${escape(k)}$`, v]));

module.exports = {
  preset: '@react-native/jest-preset',
  rootDir: __dirname,
  testMatch: ['<rootDir>/jest/**/*.test.tsx'],
  moduleNameMapper: {
    ...sources,
    '^react-native-webview$': '<rootDir>/jest/webview-mock.tsx',
    'page-html\\.gen(\\.ts)?$': '<rootDir>/jest/page-html.stub.ts',
  },
  transformIgnorePatterns: ['node_modules/(?!((jest-)?react-native|@react-native(-community)?)/)'],
};
