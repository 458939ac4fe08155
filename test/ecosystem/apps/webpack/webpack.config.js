// A plain webpack 5 set-up: nothing here knows about modelfleet's worker or WASM files —
// webpack finds them through the SDK's `new URL(…, import.meta.url)` references.
import HtmlWebpackPlugin from 'html-webpack-plugin';
import { resolve } from 'node:path';

export default {
  entry: './src/index.js',
  output: { path: resolve(import.meta.dirname, 'dist'), clean: true },
  plugins: [new HtmlWebpackPlugin({ title: 'modelfleet in a webpack app' })],
};
