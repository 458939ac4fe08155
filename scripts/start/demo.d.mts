// Types for demo.mjs (plain JavaScript so that `npm start` needs no TypeScript loader).
export declare const DEMO_MODEL: 'fraud-demo';
export declare const CHALLENGER_LABEL: 'demo challenger';
export declare function setUpDemo(o: {
  api: (method: string, path: string, body?: unknown) => Promise<any>;
  publish: (args: string[]) => void;
  keysDir: string;
  endpoint: string;
  stateDir: string;
  token: string;
  log: (line: string) => void;
}): Promise<{ appKey: string; challenger: number; rollouts: number }>;
