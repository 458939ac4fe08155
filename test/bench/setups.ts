/**
 * @module bench/setups
 * How each group of `npm run bench` rows is measured, in the words docs/benchmarks.md prints
 * beside them (report.ts). Kept beside the modules they describe: change a bench's method, change
 * its sentence here.
 */
import type { BenchSection } from './report.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const loopback = `Miniflare/workerd on loopback, ${CONCURRENCY} closed-loop clients, ${SECONDS} s per route after 1 s of warm-up`;

export const SETUPS = {
  edge: {
    title: 'Edge: tickets and resolve',
    setup:
      `${loopback}; the anchor is the same Worker's trivial JSON route (GET /v1/health). Devices cycle ` +
      `through 5,000 ids. The cache-off row is a second Worker with EDGE_CACHE_TTL_MS=0, so each ticket ` +
      `reads D1 and signs.`,
  },
  publish: {
    title: 'Publish and republish',
    setup:
      'A synthetic ~20 MiB layers model through the three publish steps against the same Worker: transfer' +
      ' is staging plus the chunk PUTs, commit re-hashes, loads in TF.js, checks and signs. The republish' +
      ' changes one tensor.',
  },
  sdk: {
    title: 'Web SDK: cold, warm and update loads; predict',
    setup:
      'Chromium headless, CPU backend unless named. Each cold run is a fresh browser context (empty HTTP ' +
      'cache and IndexedDB); rounds alternate SDK and plain TF.js ' +
      '(`tf.loadGraphModel`/`tf.loadLayersModel` of the same files from a static server); medians of ' +
      'BENCH_COLD_ROUNDS (5). Emulated network: CDP, 40 ms latency, 20 Mbit/s down, 10 up. Updates and ' +
      'predict: web SDK in Node against the same Worker.',
  },
  weight: {
    title: 'What a page downloads',
    setup:
      "The web SDK's build report (page bundle, the backend's worker script, the .wasm on WASM) beside plain " +
      "TF.js's prebuilt bundles for the same backend, all gzipped.",
  },
  drift: {
    title: 'Drift telemetry',
    setup:
      `Upload bytes and device-side sketch cost in Node; decode + merge on one core; ingest through the ` +
      `Worker into the real Durable Object (${loopback}).`,
  },
  accuracy: {
    title: 'Label-free accuracy',
    setup:
      '2,000 simulated devices × 20 predictions, sketched and released with the ε = 2 noise; reliability ' +
      'table from 5,000 labelled validation predictions; an over- and an under-confident model, each on ' +
      'its validation mix and a shifted one. The anchor is the old estimate (mean top-class confidence).',
  },
  noise: {
    title: 'Release noise',
    setup:
      'Exact discrete Gaussian draws vs Box–Muller floats fed by the same buffered CSPRNG words, medians ' +
      'of 7 rounds after a JIT warm-up; one release of 20 numeric features at ε = 2.',
    alone: 'node --import tsx test/bench/noise.ts',
  },
  imagePredict: {
    title: 'Image predict on a real model',
    setup:
      'movenet-lightning (int32 [1,192,192,3]) in Chromium: an ImageData through the SDK worker vs ' +
      '`tf.browser.fromPixels` + execute on the main thread, same backend and picture, rounds ' +
      'interleaved, medians; outputs checked equal.',
  },
  bridge: {
    title: 'React Native bridge',
    setup:
      'Chromium: the bundled WebView page with a ReactNativeWebView shim and the bridge client in the same ' +
      "page, vs the web SDK called directly there with the same engine. A phone's native hop is not included.",
  },
  console: {
    title: 'Operator console',
    setup:
      "Chromium against the Worker with the console suite's seeded data: gzip weight of each page's HTML and " +
      'shell assets; first contentful paint, median of 7 cold navigations, beside /v1/health in the same browser.',
  },
  cli: {
    title: 'CLI start-up',
    setup:
      '`modelfleet --help` from the packed tarball installed in an empty folder vs `node -e ""`; `npx ' +
      'modelfleet --help` vs `npx --version`; medians of BENCH_CLI_RUNS (11), commands interleaved.',
  },
  startup: {
    title: 'Worker start-up and size',
    setup:
      'The CPU the kernel charged to a fresh workerd from start through the first request that imports ' +
      'the bundle, minus the same for a one-line Worker, median of 11, no inspector attached; heap read ' +
      'through the inspector. Limits are the Workers platform limits.',
    alone: 'node --import tsx test/bench/startup.ts',
  },
  chunkServe: {
    title: 'Serving verified chunks',
    setup:
      'Two Workers with the same model, one client: as deployed (a chunk hashed on its first read in an ' +
      'isolate, then the verdict cached) and with EDGE_VERIFY_TTL_MS=0 (hashed on every read); 256 KiB ' +
      'and 4 MiB chunks; p50 of alternating rounds.',
    alone: 'node --import tsx test/bench/chunk-serve.ts',
  },
  provenance: {
    title: 'Upload proofs and the network cap',
    setup:
      `The same Worker bundle with telemetry provenance on and off (UPLOAD_PROOF=off, ` +
      `NETWORK_DEVICE_CAP=0), in alternating rounds; each device from its own simulated network, so the ` +
      `cap counts but never refuses (${loopback}).`,
    alone: 'node --import tsx test/bench/provenance.ts',
  },
} satisfies Record<string, Omit<BenchSection, 'rows'>>;

export type SetupKey = keyof typeof SETUPS;
