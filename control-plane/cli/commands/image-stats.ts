/**
 * @module cli/commands/image-stats
 * `modelfleet baseline --images <dir> --input <name>`: the declared input statistics
 * (@input.<name>.brightness, …) of a directory of training images. JPEG and PNG are decoded in
 * Node (jpeg-js, pngjs: pure JS, no native build) to RGBA bytes, and summarised by the protocol's
 * imageStats — the very function the device runs in its worker — so a device shown the same
 * decoded pixels computes the same numbers, bit for bit.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, resolve } from 'node:path';
import { IMAGE_STATS, type ImageStat, imageStats } from '@modelfleet/protocol';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { CliError } from '../errors.ts';

const EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** Image files under `dir`, class subfolders included, in a stable (sorted) order. */
export function listImages(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (EXTENSIONS.has(extname(name).toLowerCase())) out.push(full);
    }
  };
  walk(dir);
  return out;
}

/** RGBA bytes of one JPEG or PNG file (by content, not by extension). */
export function decodeImage(file: string): { width: number; height: number; data: Uint8Array } {
  const bytes = readFileSync(file);
  if (bytes[0] === 0x89 && bytes[1] === 0x50) {
    const png = PNG.sync.read(bytes); // palette, grey and 16-bit images come out as 8-bit RGBA
    return { width: png.width, height: png.height, data: png.data };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    // maxMemoryUsageInMB: jpeg-js refuses images over 512 MB of decode memory by default; 40 MP photos need more.
    return jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: 200,
      maxMemoryUsageInMB: 2048,
    });
  }
  throw new Error('neither PNG nor JPEG');
}

/** Per statistic, its value on each image in the directory. */
export function directoryStats(cwd: string, dir: string): { files: string[]; values: Record<ImageStat, number[]> } {
  const full = resolve(cwd, dir);
  let isDir = false;
  try {
    isDir = statSync(full).isDirectory();
  } catch {}
  if (!isDir) throw new CliError('input', 'file_not_found', `--images ${dir}: no such directory`);
  const files = listImages(full);
  if (files.length === 0)
    throw new CliError('input', 'no_images', `--images ${dir}: no .png, .jpg or .jpeg files in it`);
  const values = Object.fromEntries(IMAGE_STATS.map((s) => [s, [] as number[]])) as Record<ImageStat, number[]>;
  for (const file of files) {
    let image;
    try {
      image = decodeImage(file);
    } catch (e) {
      throw new CliError(
        'input',
        'bad_image',
        `--images ${dir}: ${relative(full, file)} could not be decoded (${(e as Error).message})`,
      );
    }
    const stats = imageStats(image.data, image.width, image.height, 4);
    for (const s of IMAGE_STATS) values[s].push(stats[s]);
  }
  return { files, values };
}
