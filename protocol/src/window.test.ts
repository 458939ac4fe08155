import { expect, it } from 'vitest';
import { DAY_SECONDS, closeGraceSeconds, isWindowLength, windowOf, windowStart, windowsIn } from './window.ts';

it('numbers UTC days by default, as before', () => {
  const t = new Date('2026-12-03T15:00:00Z');
  expect(windowOf(t)).toBe(Math.floor(t.getTime() / 86_400_000));
  expect(windowOf(t)).toBe(20790);
  expect(windowStart(20790).toISOString()).toBe('2026-12-03T00:00:00.000Z');
  expect(windowOf(new Date('2026-12-03T23:59:59.999Z'))).toBe(20790);
  expect(windowOf(new Date('2026-12-04T00:00:00Z'))).toBe(20791);
});

it('numbers windows of any length from the epoch, and windowStart inverts windowOf', () => {
  const t = new Date('2026-12-03T15:00:29.999Z');
  const w = windowOf(t, 30);
  expect(w).toBe(Math.floor(t.getTime() / 30_000));
  expect(windowStart(w, 30).toISOString()).toBe('2026-12-03T15:00:00.000Z');
  expect(windowOf(new Date('2026-12-03T15:00:30Z'), 30)).toBe(w + 1);
  for (const seconds of [10, 30, 60, 3600, DAY_SECONDS]) {
    const at = Date.parse('2026-12-03T07:31:17.250Z');
    const start = windowStart(windowOf(new Date(at), seconds), seconds).getTime();
    expect(start).toBeLessThanOrEqual(at);
    expect(at - start).toBeLessThan(seconds * 1000);
  }
  // Day boundaries are window boundaries: a day holds a whole number of windows.
  expect(windowStart(20790 * windowsIn(1, 30), 30).toISOString()).toBe('2026-12-03T00:00:00.000Z');
  // u32 on the wire (SPEC 10.3): the shortest window still fits for centuries.
  expect(windowOf(new Date('2300-01-01T00:00:00Z'), 10)).toBeLessThan(2 ** 32);
});

it('accepts lengths of at least 10 s that divide a day, nothing else', () => {
  for (const ok of [10, 30, 60, 300, 900, 3600, 43_200, 86_400]) expect(isWindowLength(ok)).toBe(true);
  for (const bad of [0, -30, 5, 7, 70, 1000, 3599, 30.5, NaN, Infinity, 2 * 86_400, 100_000])
    expect(isWindowLength(bad)).toBe(false);
});

it('counts windows in days and closes after min(15 min, half a window)', () => {
  expect(windowsIn(7)).toBe(7);
  expect(windowsIn(7, 30)).toBe(20_160);
  expect(windowsIn(365, 3600)).toBe(8760);
  expect(closeGraceSeconds()).toBe(900);
  expect(closeGraceSeconds(3600)).toBe(900);
  expect(closeGraceSeconds(30)).toBe(15);
  expect(closeGraceSeconds(10)).toBe(5);
});
