// The React Native example as an app outside this repository compiles it: the packed
// @modelfleet/react-native installed into a fresh app with react-native and react-native-webview
// from a committed lockfile, examples/react-native/App.tsx copied in unchanged, and the app's
// `tsc` run with our declarations checked (skipLibCheck false, verbatimModuleSyntax,
// erasableSyntaxOnly). Running it on a phone needs a device build (mobile-bridge/README.md).
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../harness/bundle.ts';
import { freshApp, packReactNative } from './packs.ts';

const tsc = (dir: string) => {
  try {
    return {
      code: 0,
      out: execFileSync('npm', ['run', 'typecheck'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: `${e.stdout}${e.stderr}` };
  }
};

it('the example app typechecks against the packed tarball, and a misuse of its API does not', () => {
  const dir = freshApp('react-native', [packReactNative()]);
  for (const f of ['App.tsx', 'root.json']) copyFileSync(join(ROOT, 'examples/react-native', f), join(dir, f));
  const ok = tsc(dir);
  expect(ok.out).not.toMatch(/error TS/);
  expect(ok.code).toBe(0);

  // The check has teeth: a call the package's types forbid fails the app's build.
  writeFileSync(
    join(dir, 'App.tsx'),
    `import { useModel } from '@modelfleet/react-native';\nexport function Bad() { const m = useModel('fraud-demo'); void m.predict('not a tensor', 42); return null; }\n`,
  );
  const bad = tsc(dir);
  expect(bad.code).not.toBe(0);
  expect(bad.out).toMatch(/App\.tsx\(2,\d+\): error TS/);
}, 600_000);
