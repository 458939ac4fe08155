// DESIGN §1: protocol/ runs unchanged in workerd, browsers, React Native and Node.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('protocol/src imports nothing but zod and itself', () => {
  const dir = import.meta.dirname;
  const offenders: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    for (const [, spec] of readFileSync(join(dir, file), 'utf8').matchAll(/from '([^']+)'/g)) {
      if (!(spec === 'zod' || spec!.startsWith('./'))) offenders.push(`${file}: ${spec}`);
    }
  }
  expect(offenders).toEqual([]);
});
