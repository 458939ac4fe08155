// The tarball an app installs (scripts/pack.mjs) must stand alone: no private @modelfleet/*
// package in its dependencies, imports or declarations, only the peers left to the app, and the
// WebView page inside. (examples/react-native installs it; a Metro + Hermes build of an app using
// it is described in mobile-bridge/README.md.)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const out = mkdtempSync(join(tmpdir(), 'mf-rn-pack-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));

it('packs a self-contained @modelfleet/react-native', () => {
  execFileSync(process.execPath, [join(import.meta.dirname, 'pack.mjs'), '--out', out, '--no-page-build'], {
    stdio: 'pipe',
  });
  const stage = join(out, 'package');
  const manifest = JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8'));
  expect(existsSync(join(out, `modelfleet-react-native-${manifest.version}.tgz`))).toBe(true);
  expect(manifest.name).toBe('@modelfleet/react-native');
  expect(Object.keys(manifest.dependencies)).toEqual(['zod']);
  expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['react', 'react-native', 'react-native-webview']);

  const js = readFileSync(join(stage, 'index.js'), 'utf8');
  const imports = new Set([...js.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]));
  expect([...imports].sort()).toEqual(['react', 'react-native', 'react-native-webview', 'react/jsx-runtime']);
  expect(js).toContain('<title>modelfleet bridge</title>'); // the page, inlined
  expect(readFileSync(join(stage, 'LICENSE'), 'utf8')).toContain('Apache License');

  const declarations = walk(join(stage, 'types'));
  expect(existsSync(join(stage, manifest.types))).toBe(true);
  for (const file of declarations)
    expect(readFileSync(file, 'utf8')).not.toMatch(/from '@modelfleet\/|import\('@modelfleet\//);
}, 60_000);
