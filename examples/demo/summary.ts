import type { Summary } from './story.ts';

const s = (x: number | null) => (x === null ? '—' : `${x.toFixed(1)} s`);
const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)} %`);

/** The demo's closing summary, as the README's tour quotes it. */
export function printSummary(r: Summary, log: (line: string) => void): void {
  log('');
  log(`summary: ${r.outcome}${r.challenger ? ` (challenger v${r.challenger})` : ''} in ${s(r.seconds.total)}`);
  log(
    `  shift → alarm ${s(r.seconds.shiftToAlarm)} · alarm → challenger published ${s(r.seconds.alarmToPublished)} · rollout start → ${r.outcome === 'rolled-back' ? 'rollback' : 'promotion'} ${s(r.seconds.rolloutToDecision)}`,
  );
  log(
    `  accuracy on the stream: before the shift ${pct(r.accuracy.beforeShift)} · after it, old model ${pct(r.accuracy.afterShiftOldModel)} · after promotion ${pct(r.accuracy.afterPromotion)}`,
  );
  const n = (x: number) => x.toLocaleString('en-US');
  if (r.updateBytes) {
    const { model, polling } = r.updateBytes;
    log(
      `  the update (manifest + chunks, in the ticket bundle or apart) on the ${model.devices} devices that took it: median ${n(model.median)} bytes, max ${n(model.max)}`,
    );
    log(
      `  polling (tickets) from the rollout's start, every device: median ${n(polling.median)} bytes, max ${n(polling.max)}`,
    );
  }
  log(
    `  devices per version at the end: ${Object.entries(r.versions)
      .map(([v, n]) => `${v} ${n}`)
      .join(', ')}`,
  );
  log(
    `  retrain request deliveries: ${r.deliveries.map((d) => `${d.status} after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`).join('; ') || 'none'}`,
  );
}
