/**
 * `npm run figure -- --config FILE.json --out FILE.png|svg [--scale 1|2|4] [--images DIR] [--model DIR]`
 *
 * Regenerates a figure saved by the studio's figure builder (issue #6): the same settings file, the same
 * pipeline (src/core/methods/cells.ts for the maps, src/figure for layout, cells and SVG), in Node on the
 * wasm backend. PNG output rasterises the SVG with sharp (librsvg) at `scale` raster pixels per CSS pixel.
 *
 * Images are found by their `src` (bundled samples, under public/) or by name in `--images DIR` (default:
 * the settings file's folder). The model is `--model DIR`, else `models/<settings.model>`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { parseDetectionRule } from '../shared/detection';
import { methodTitle } from '../shared/methods';
import { rgbToRgba } from '../shared/resample';
import { choiceField } from '../shared/schema';
import { explainCells } from '../core/methods/cells';
import { passOfPixels, releasePass, type ImagePass } from '../core/pipeline';
import { renderFigure, type FigureRowData } from '../figure/document';
import { figureColumns, parseFigureSpec, PNG_SCALES, FigureSpecError, type PngScale } from '../figure/spec';
import { initNodeBackend } from '../node/backend';
import { loadClassifierFromDirectory } from '../node/files';
import { readModelInput } from '../node/image';
import { flagValue, requireString, runMain, sayModelNotes, UsageError } from './args';

const PNG_SCALE = choiceField(PNG_SCALES.map(String));

const USAGE = `usage: npm run figure -- --config FILE.json --out FILE.png|FILE.svg [options]

  --config FILE.json   figure settings saved by the studio's figure builder ("Save settings")
  --out FILE           .png (rasterised) or .svg (cells embedded as PNG)
  --scale N            raster pixels per CSS pixel: ${PNG_SCALES.join(', ')} (default 2)
  --images DIR         where images without a bundled src are looked up by name (default: the config's folder)
  --model DIR|FILE     TF.js or ONNX model (default: models/<the settings' model>)`;

const root = resolve(import.meta.dirname, '..', '..');

/** RGBA -> PNG data URL with sharp. */
async function pngDataUrl(rgba: Uint8ClampedArray, width: number, height: number): Promise<string> {
  const png = await sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      out: { type: 'string' },
      scale: { type: 'string', default: '2' },
      images: { type: 'string' },
      model: { type: 'string' },
    },
  });
  const configPath = resolve(requireString(values.config, 'config'));
  const out = resolve(requireString(values.out, 'out'));
  const format = extname(out).toLowerCase();
  if (format !== '.png' && format !== '.svg') throw new UsageError('--out must end in .png or .svg');
  const scale = Number(flagValue('scale', PNG_SCALE, values.scale)) as PngScale;
  if (!existsSync(configPath)) throw new UsageError(`--config: ${configPath} does not exist`);
  let spec = parseFigureSpec(JSON.parse(readFileSync(configPath, 'utf8')) as unknown);
  const modelDir = resolve(values.model ?? join(root, 'models', spec.model));
  const imagesDir = resolve(values.images ?? dirname(configPath));

  const backend = await initNodeBackend('wasm');
  const loaded = await loadClassifierFromDirectory(modelDir);
  sayModelNotes(loaded.notes);
  const adapter = loaded.adapter;
  try {
    spec = parseFigureSpec(JSON.parse(readFileSync(configPath, 'utf8')) as unknown, adapter.numClasses);
    if (spec.images.length === 0) throw new FigureSpecError('The figure settings list no images.');
    const [height, width] = adapter.inputShape;
    const columns = figureColumns(spec);
    const detection = spec.detection === null ? undefined : parseDetectionRule(spec.detection);
    const rows: FigureRowData[] = [];
    for (const [index, ref] of spec.images.entries()) {
      const path = ref.src !== undefined ? join(root, 'public', ref.src) : join(imagesDir, ref.name);
      if (!existsSync(path))
        throw new Error(`image ${ref.name}: ${path} does not exist${ref.src === undefined ? ' (pass --images DIR)' : ''}`);
      const { pixels, aspect } = await readModelInput(path, [height, width], loaded.resizePolicy);
      let pass: ImagePass | null = null;
      try {
        pass = await passOfPixels(adapter, pixels, loaded.preprocessing);
        const result = await explainCells(adapter, pass.input, pass.forward, columns, detection === undefined ? {} : { detection });
        rows.push({
          name: ref.name,
          pixels: rgbToRgba(await pixels.data(), height * width),
          pixelsShape: [height, width],
          aspect,
          top: result.top,
          cells: result.cells,
        });
      } finally {
        pixels.dispose();
        if (pass !== null) releasePass(pass);
      }
      const line = `explained ${index + 1}/${spec.images.length} images`;
      process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
    const figure = await renderFigure(
      spec,
      rows,
      {
        labelName: (label) => loaded.labelNames[label] ?? `class ${label}`,
        methodTitle: (method) => methodTitle(method),
      },
      scale,
      pngDataUrl,
    );
    if (format === '.svg') {
      writeFileSync(out, figure.svg);
    } else {
      // sharp reads SVG user units (CSS px) at 72 per inch of `density`: 72 * scale gives scale raster px per CSS px.
      await sharp(Buffer.from(figure.svg), { density: 72 * scale })
        .png()
        .toFile(out);
    }
    const size =
      format === '.svg'
        ? `${figure.layout.width}x${figure.layout.height} CSS px`
        : `${figure.layout.width * scale}x${figure.layout.height * scale} px`;
    process.stdout.write(`${JSON.stringify({ out, backend, model: modelDir, images: rows.length, columns: columns.length, size })}\n`);
  } finally {
    adapter.dispose();
  }
}

runMain(USAGE, main);
