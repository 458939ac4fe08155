// The README and docs/ link to one another and into the packages: every relative link must name a
// file that exists and, with a #fragment, a heading in it (GitHub's slugs), so moving a section
// cannot leave a link pointing at nothing.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const PAGES = [
  'README.md',
  'protocol/SPEC.md',
  'protocol/README.md',
  'edge-runtime/README.md',
  'control-plane/README.md',
  'web-sdk/README.md',
  'mobile-bridge/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

function links(page: string): { target: string; fragment?: string }[] {
  const text = readFileSync(join(ROOT, page), 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((href) => !/^[a-z]+:/.test(href))
    .map((href) => {
      const [path, fragment] = href.split('#');
      return { target: path ? join(dirname(page), path) : page, ...(fragment ? { fragment } : {}) };
    });
}

describe('documentation links', () => {
  it('slugs headings as GitHub does', () => {
    expect(slug('5. Trust')).toBe('5-trust');
    expect(slug('Loading a model: cold, warm and updates')).toBe('loading-a-model-cold-warm-and-updates');
    expect(slug('Telemetry, drift and privacy')).toBe('telemetry-drift-and-privacy');
  });

  it.each(PAGES)('%s: every relative link resolves', (page) => {
    const broken = links(page).filter(({ target, fragment }) => {
      const file = join(ROOT, target);
      if (!existsSync(file)) return true;
      return fragment !== undefined && target.endsWith('.md') && !anchors(file).has(fragment);
    });
    expect(broken).toEqual([]);
  });
});
