/**
 * The model page's fleet chart: devices per version per window, one line per version and the
 * total dashed, from the JSON the fleet panel embeds (#fleet-data, GET /v1/models/{m}/fleet).
 * Windows are placed at their UTC start, computed from the response's windowSeconds.
 */
import uPlot from 'uplot';

interface FleetData {
  windowSeconds: number;
  versions: number[];
  windows: { window: number; live: boolean; versions: { version: number; devices: number }[]; total: number }[];
}

/** Stable per version, so a version keeps its colour as newer ones arrive. */
const PALETTE = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#bc4c00', '#1b7c83'];
const GREY = '#57606a';
const width = (node: HTMLElement) => Math.max(260, node.clientWidth || 320);
const DAY = 86_400;
/** Windows of whole days: ticks by date, a window apart at least (uPlot's own axis would label hours). */
const dayAxis = (seconds: number): uPlot.Axis => ({
  space: 60,
  incrs: [seconds, 7 * seconds, 30 * seconds],
  values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(5, 10)),
});

export function fleetChart(node: HTMLElement): void {
  const source = node.closest('#fleet')?.querySelector('#fleet-data');
  if (!source) return;
  const all = JSON.parse(source.textContent ?? '{}') as FleetData;
  // From the first window anyone reported in: a model's first weeks are not a long flat zero.
  const windows = all.windows.slice(
    Math.max(
      0,
      all.windows.findIndex((w) => w.total > 0),
    ),
  );
  const x = windows.map((w) => w.window * all.windowSeconds);
  const perVersion = all.versions.map((v) => windows.map((w) => w.versions.find((e) => e.version === v)?.devices ?? 0));
  const height = 220;
  const plot = new uPlot(
    {
      width: width(node),
      height,
      legend: { show: true },
      // Devices from zero: a version's share of the fleet reads off the height.
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] } },
      series: [
        {},
        ...all.versions.map((v) => ({
          label: `v${v}`,
          stroke: PALETTE[(v - 1) % PALETTE.length],
          width: 2,
          points: { show: true },
        })),
        { label: 'all', stroke: GREY, dash: [6, 4] },
      ],
      axes: [all.windowSeconds % DAY === 0 ? dayAxis(all.windowSeconds) : {}, { label: 'devices', size: 60 }],
    },
    [x, ...perVersion, windows.map((w) => w.total)],
    node,
  );
  // Live swaps replace the node: stop following the width of one that is gone.
  const observer = new ResizeObserver(() =>
    node.isConnected ? plot.setSize({ width: width(node), height }) : (observer.disconnect(), plot.destroy()),
  );
  observer.observe(node);
}
