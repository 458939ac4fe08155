import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAILY_CRON, SWEEP_CRON } from './crons.ts';

/** The `crons = [...]` of wrangler.toml's [triggers] table (a TOML array of basic strings is JSON). */
function wranglerCrons(): string[] {
  const toml = readFileSync(resolve(import.meta.dirname, '../../wrangler.toml'), 'utf8');
  const triggers = toml.split(/^\[triggers\]\s*$/m)[1]?.split(/^\[/m)[0];
  const line = triggers?.match(/^crons\s*=\s*(\[.*\])\s*$/m)?.[1];
  if (!line) throw new Error('wrangler.toml has no [triggers] crons = [...] line');
  return JSON.parse(line) as string[];
}

describe('crons', () => {
  it('are the ones wrangler.toml schedules, daily close first', () => {
    expect(wranglerCrons()).toEqual([DAILY_CRON, SWEEP_CRON]);
  });
});
