/**
 * The console's charts, drawn with uPlot from JSON the server embedded: the model page's fleet
 * by version (fleet-chart.ts, redrawn when its live region is swapped), and the drift page's
 * (#drift-data): per feature, −log10 p per window with the alarm threshold and alarm markers, and
 * the latest window's released bins beside the baseline; estimated accuracy; devices vs
 * minDevices. Charts follow their container's width (phones included).
 */
import uPlot from 'uplot';
import { fleetChart } from './fleet-chart.ts';

interface Feature {
  name: string;
  p: number | null;
  alarm: boolean;
  bins?: { labels: string[]; observed: number[]; expected: number[] };
}
interface Window {
  day: string;
  window: number;
  devices: number;
  verdict: {
    features: Feature[];
    outputs: { predictionDrift: boolean; estimatedAccuracy: number | null; baselineAccuracy: number | null } | null;
  } | null;
}
interface Data {
  windows: Window[];
  features: string[];
  threshold: number;
  minDevices: number;
  windowSeconds?: number;
}

const el = document.getElementById('drift-data');
const data = el ? (JSON.parse(el.textContent ?? '{}') as Data) : null;
const RED = '#cf222e';
const BLUE = '#0969da';
const GREY = '#57606a';
const seconds = data?.windowSeconds ?? 86_400;
/** Each window at its start (Unix seconds). */
const x = data?.windows.map((w) => w.window * seconds) ?? [];
const score = (p: number | null) => (p === null ? null : -Math.log10(Math.max(p, 1e-300)));
const width = (node: HTMLElement) => Math.max(260, node.clientWidth || 320);
const points = (stroke: string) => ({ show: true, size: 9, stroke, fill: stroke });
/** Day windows: ticks by date, at least a day apart; shorter windows: by UTC time, at least a window apart. */
const dayAxis: uPlot.Axis =
  seconds >= 86_400
    ? {
        space: 60,
        incrs: [86_400, 7 * 86_400, 30 * 86_400],
        values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(5, 10)),
      }
    : {
        space: 60,
        incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400].filter(
          (s) => s >= seconds,
        ),
        values: (_u, ticks) =>
          ticks.map((t) => new Date(t * 1000).toISOString().slice(11, seconds % 60 === 0 ? 16 : 19)),
      };
const percentAxis: uPlot.Axis = { size: 50, values: (_u, t) => t.map((v) => `${(v * 100).toFixed(v < 0.2 ? 1 : 0)}%`) };

function mount(node: HTMLElement, opts: Omit<uPlot.Options, 'width'>, series: uPlot.AlignedData) {
  const plot = new uPlot({ ...opts, width: width(node) }, series, node);
  new ResizeObserver(() => plot.setSize({ width: width(node), height: opts.height })).observe(node);
}

function scoreChart(node: HTMLElement, name: string) {
  const feature = (w: Window) => w.verdict?.features.find((f) => f.name === name);
  const s = data!.windows.map((w) => score(feature(w)?.p ?? null));
  const alarms = data!.windows.map((w, i) => (feature(w)?.alarm ? s[i]! : null));
  mount(
    node,
    {
      height: 180,
      legend: { show: true },
      series: [
        {},
        { label: '−log₁₀ p', stroke: BLUE, width: 2, points: { show: true } },
        { label: 'threshold', stroke: GREY, dash: [6, 4] },
        { label: 'alarm', stroke: RED, width: 0, points: points(RED) },
      ],
      axes: [dayAxis, { label: '−log₁₀ p', size: 50 }],
    },
    [x, s, x.map(() => score(data!.threshold)), alarms],
  );
}

/**
 * A numeric bin "a…b" is labelled by its lower edge (the first, open one as "<b"): the full
 * ranges of ten bins overlap on a card's width. Categories keep their names.
 */
function shortBinLabel(label: string): string {
  const [lo, hi] = label.split('…');
  if (hi === undefined) return label;
  return lo === '<' ? `<${hi}` : lo!;
}

function binsChart(node: HTMLElement, name: string) {
  const latest = data!.windows.at(-1)?.verdict?.features.find((f) => f.name === name)?.bins;
  if (!latest) return void (node.textContent = 'no released bins');
  const idx = latest.labels.map((_, i) => i);
  const bars = uPlot.paths.bars!({ size: [0.4, 40], align: 0 });
  mount(
    node,
    {
      height: 180,
      scales: { x: { time: false, range: [-0.6, idx.length - 0.4] } },
      series: [
        {},
        { label: 'released', fill: `${BLUE}99`, stroke: BLUE, paths: bars, points: { show: false } },
        { label: 'baseline', stroke: GREY, dash: [4, 3], points: { show: true } },
      ],
      axes: [
        {
          values: (_u, ticks) => ticks.map((t) => shortBinLabel(latest.labels[t] ?? '')),
          rotate: -45,
          size: 48,
          space: 14,
        } as uPlot.Axis,
        percentAxis,
      ],
    },
    [idx, latest.observed, latest.expected],
  );
}

function accuracyChart(node: HTMLElement) {
  const out = data!.windows.map((w) => w.verdict?.outputs ?? null);
  if (!out.some(Boolean))
    return void (node.textContent = 'This model has no monitored outputs (publish its baseline with --predictions).');
  const est = out.map((o) => o?.estimatedAccuracy ?? null);
  mount(
    node,
    {
      height: 180,
      series: [
        {},
        { label: 'estimated accuracy', stroke: BLUE, width: 2 },
        { label: 'validation', stroke: GREY, dash: [6, 4] },
        { label: 'prediction drift', stroke: RED, width: 0, points: points(RED) },
      ],
      axes: [dayAxis, percentAxis],
    },
    [x, est, out.map((o) => o?.baselineAccuracy ?? null), out.map((o, i) => (o?.predictionDrift ? est[i]! : null))],
  );
}

function devicesChart(node: HTMLElement) {
  mount(
    node,
    {
      height: 180,
      series: [
        {},
        { label: 'devices', stroke: BLUE, width: 2, points: { show: true } },
        { label: 'minDevices', stroke: GREY, dash: [6, 4] },
      ],
      axes: [dayAxis, { size: 60 }],
    },
    [x, data!.windows.map((w) => w.devices), x.map(() => data!.minDevices)],
  );
}

/** Draws every chart under `root` not drawn yet: the page's at load, a live region's after each swap. */
function draw(root: ParentNode) {
  for (const node of root.querySelectorAll<HTMLElement>('[data-chart]:not([data-drawn])')) {
    const name = node.dataset.feature ?? '';
    const kind = node.dataset.chart;
    if (kind === 'fleet') fleetChart(node);
    else if (!data) continue;
    else if (kind === 'score') scoreChart(node, name);
    else if (kind === 'bins') binsChart(node, name);
    else if (kind === 'accuracy') accuracyChart(node);
    else if (kind === 'devices') devicesChart(node);
    node.dataset.drawn = '1';
  }
}

draw(document);
// The app island announces each live region it swapped (app.ts refreshLive).
document.addEventListener('live:updated', (event) => draw(event.target as HTMLElement));
