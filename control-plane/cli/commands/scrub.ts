/**
 * @module cli/commands/scrub
 * `scrub [--repair <dir...>]`: pages through GET /v1/storage/scrub (every chunk and manifest an
 * active version needs, read and hashed by the control plane), printing progress, and reports the
 * corrupt and missing ones with the versions that need them. With --repair, chunks found in the
 * given model directories are sent again through the publisher's chunk PUT, which replaces stored
 * bytes that no longer match (an upload is staged for that and never committed; it expires).
 * Manifests cannot be rebuilt from model files (they are signed records of a publish): they are
 * reported only. Exits 7 (verification) while anything stays broken.
 */
import { resolve } from 'node:path';
import {
  ChunkPutResponse,
  ScrubPage,
  type ScrubProblem,
  type StorageFault,
  UploadResponse,
} from '@modelfleet/protocol';
import { Api, type Ctx, emit } from '../context.ts';
import { CliError } from '../errors.ts';
import { type ModelDir, readModelDir } from './model-dir.ts';

interface ScrubOptions {
  repair?: string[];
  pageSize?: string;
}
type Repair = { digest: string; dir: string; model: string; repaired: boolean; stored: boolean };

async function walk(c: Ctx, api: Api, pageSize: number) {
  const problems: ScrubProblem[] = [];
  let faults: StorageFault[] = [];
  let checked = 0;
  let bytes = 0;
  let total = 0;
  let after: string | null = null;
  do {
    const query: string = `?limit=${pageSize}${after ? `&after=${after}` : ''}`;
    const page = await api.request(ScrubPage, 'GET', `/v1/storage/scrub${query}`);
    if (page.faults) faults = page.faults;
    problems.push(...page.problems);
    checked += page.checked;
    bytes += page.bytes;
    total = page.total;
    after = page.next;
    // Progress on stderr, a line per page: a large registry takes many pages.
    if (!c.globals.json)
      c.io.stderr(
        `scrub: ${checked} of ${total} checked (${(bytes / 2 ** 20).toFixed(1)} MiB), ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      );
  } while (after);
  return { problems, faults, checked, bytes, total };
}

/** Sends each broken chunk that a local model directory holds, staged under a model that needs it. */
async function repair(c: Ctx, api: Api, dirs: string[], problems: ScrubProblem[]): Promise<Repair[]> {
  const broken = new Map(problems.filter((p) => p.kind === 'chunk').map((p) => [p.digest, p]));
  const done: Repair[] = [];
  for (const dir of dirs) {
    if (broken.size === 0) break;
    const model: ModelDir = readModelDir(resolve(c.io.cwd, dir));
    const here = model.chunks.filter((ch) => broken.has(ch.digest));
    // One staged upload per model the chunks are needed by (the plan is the directory's own).
    const byModel = new Map<string, typeof here>();
    for (const ch of here) {
      const name = broken.get(ch.digest)!.versions[0]?.model;
      if (name) byModel.set(name, [...(byModel.get(name) ?? []), ch]);
    }
    for (const [name, chunks] of byModel) {
      const body = {
        format: model.format,
        modelJson: model.modelJson,
        chunks: model.chunks.map(({ digest, size }) => ({ digest, size })),
      };
      const staged = await api.request(UploadResponse, 'POST', `/v1/models/${name}/uploads`, body);
      for (const ch of chunks) {
        if (!broken.has(ch.digest)) continue; // the same bytes twice in one directory
        const r = await api.request(
          ChunkPutResponse,
          'PUT',
          `/v1/uploads/${staged.uploadId}/chunks/${ch.digest}`,
          ch.bytes,
        );
        done.push({ digest: ch.digest, dir, model: name, repaired: r.repaired === true, stored: r.stored });
        broken.delete(ch.digest);
        if (!c.globals.json)
          c.io.stderr(
            `repair: chunk ${ch.digest.slice(0, 16)}… from ${dir}: ${r.repaired ? 'replaced' : r.stored ? 'stored (was missing)' : 'already intact'}`,
          );
      }
    }
  }
  return done;
}

const who = (p: ScrubProblem) => p.versions.map((v) => `${v.model} v${v.version}`).join(', ') || 'no active version';

export async function scrub(c: Ctx, o: ScrubOptions): Promise<void> {
  const api = Api.from(c.io, c.globals);
  const pageSize = Number(o.pageSize ?? 25);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100)
    throw new CliError('usage', 'bad_request', '--page-size is 1 to 100');
  const report = await walk(c, api, pageSize);
  const repairs = o.repair?.length ? await repair(c, api, o.repair, report.problems) : [];
  const fixed = new Set(repairs.map((r) => r.digest));
  const remaining = report.problems.filter((p) => !fixed.has(p.digest));
  const result = {
    checked: report.checked,
    total: report.total,
    bytes: report.bytes,
    problems: report.problems,
    repairs,
    remaining,
    faults: report.faults,
  };
  const lines = [
    `checked ${report.checked} stored objects (${report.bytes} bytes): ${report.problems.length === 0 ? 'all intact' : `${report.problems.length} corrupt or missing`}`,
    ...report.problems.map(
      (p) => `  ${p.state} ${p.kind} ${p.digest} — needed by ${who(p)}${fixed.has(p.digest) ? ' — repaired' : ''}`,
    ),
    ...(report.faults.length
      ? [
          `edge and upload reads recorded ${report.faults.length} fault(s) since the last repair: ${report.faults.map((f) => `${f.kind} ${f.digest.slice(0, 16)}… ×${f.detections}`).join(', ')}`,
        ]
      : []),
  ];
  if (remaining.length === 0) return emit(c, result, () => lines);
  if (!c.globals.json) for (const line of lines) c.io.stdout(line);
  const chunks = remaining.filter((p) => p.kind === 'chunk');
  const hint =
    chunks.length > 0
      ? `pass --repair <model dir> with the files of ${[...new Set(chunks.flatMap((p) => p.versions.map((v) => `${v.model} v${v.version}`)))].join(', ')}`
      : '';
  const manifests = remaining.length - chunks.length;
  throw new CliError(
    'verification',
    'storage_corrupt',
    `${remaining.length} stored object(s) still corrupt or missing${hint ? `: ${hint}` : ''}${manifests ? `; ${manifests} manifest(s) cannot be rebuilt from model files — publish those versions again` : ''}`,
    result,
  );
}
