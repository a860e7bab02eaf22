import { useEffect, useMemo, useRef, useState, type ChangeEvent } from 'react';
import { COLORMAP_IDS, COLORMAP_TITLES, type ColormapId } from '../shared/colormap';
import { renderFigure, type FigureDocument, type FigureNames } from '../figure/document';
import { grayBytes, npyFloat32 } from '../figure/npy';
import { FigureLayoutError } from '../figure/render';
import { FIGURE_WIDTHS, PNG_SCALES, figureColumns, type FigureSpec, type FigureWidth, type PngScale } from '../figure/spec';
import { figureCellsKey } from '../state/selectors';
import { methodTitle } from '../shared/methods';
import { useStudio } from '../state/react';
import type { FigureRowResult, MethodId } from '../shared/protocol';
import { downloadBlob } from './download';
import { canvasPngDataUrl, grayPngBlob, svgToPngBlob } from './figure-raster';
import { useSamples } from './samples';

const stem = (name: string): string => name.replace(/\.[^.]*$/, '');

/** An explained row with its image name (a FigureRowData, raw maps included). */
type NamedRow = FigureRowResult & { name: string };

/**
 * Publication figures: rows are images, columns are methods (for each row's label) or labels (for one
 * method). Settings are saved and loaded as JSON (the same file `npm run figure` reads); exports are SVG
 * (cells embedded) and PNG at 1x/2x/4x, sized for one or two journal columns; each map can be exported on
 * its own as a grayscale PNG and as .npy.
 */
export function FigureBuilder() {
  const spec = useStudio((s) => s.figureSpec);
  const images = useStudio((s) => s.figureImages);
  const rows = useStudio((s) => s.figureRows);
  const failures = useStudio((s) => s.figureFailures);
  const status = useStudio((s) => s.figureStatus);
  const progress = useStudio((s) => s.figureProgress);
  const missing = useStudio((s) => s.figureMissing);
  const model = useStudio((s) => s.model);
  const key = useStudio(figureCellsKey);
  const setSpec = useStudio((s) => s.setFigureSpec);
  const addImages = useStudio((s) => s.addFigureImages);
  const addSample = useStudio((s) => s.addFigureSample);
  const removeImage = useStudio((s) => s.removeFigureImage);
  const moveImage = useStudio((s) => s.moveFigureImage);
  const build = useStudio((s) => s.buildFigure);
  const cancel = useStudio((s) => s.cancelFigure);
  const specJson = useStudio((s) => s.figureSpecJson);
  const loadSpec = useStudio((s) => s.loadFigureSpec);
  const reportError = useStudio((s) => s.reportError);
  const currentImage = useStudio((s) => s.imageBlob);
  const currentImageName = useStudio((s) => s.imageName);
  const { samples } = useSamples();
  const [scale, setScale] = useState<PngScale>(2);
  const [preview, setPreview] = useState<{ url: string; document: FigureDocument } | null>(null);
  const [layoutError, setLayoutError] = useState<string | null>(null);
  const filesRef = useRef<HTMLInputElement | null>(null);
  const settingsRef = useRef<HTMLInputElement | null>(null);

  const labelNames = model?.labelNames ?? [];
  const names = useMemo(
    () => ({
      labelName: (label: number) => model?.labelNames[label] ?? `class ${label}`,
      methodTitle: (method: MethodId) => methodTitle(method, model?.methods ?? null),
    }),
    [model],
  );
  const readyRows: NamedRow[] = useMemo(
    () =>
      images.flatMap((image) => {
        const entry = rows[image.name];
        return entry !== undefined && entry.key === key ? [{ name: image.name, ...entry.row }] : [];
      }),
    [images, rows, key],
  );
  const complete = readyRows.length === images.length && images.length > 0;

  // The preview: the figure at 1x, redrawn whenever the rows or the look change (no engine call).
  useEffect(() => {
    if (readyRows.length === 0) {
      setPreview(null);
      setLayoutError(null);
      return;
    }
    let live = true;
    let url: string | null = null;
    renderFigure(spec, readyRows, names, 1, canvasPngDataUrl).then(
      (document) => {
        if (!live) return;
        url = URL.createObjectURL(new Blob([document.svg], { type: 'image/svg+xml' }));
        setPreview({ url, document });
        setLayoutError(null);
      },
      (error: unknown) => {
        if (live) setLayoutError(error instanceof FigureLayoutError ? error.message : String(error));
      },
    );
    return () => {
      live = false;
      if (url !== null) URL.revokeObjectURL(url);
    };
  }, [spec, readyRows, names]);

  const available = (model?.methods ?? []).filter((m) => m.available);
  const toggleMethod = (id: MethodId): void => {
    const next = spec.methods.includes(id) ? spec.methods.filter((m) => m !== id) : [...spec.methods, id];
    if (next.length > 0) setSpec({ methods: next });
  };
  const onFiles = (event: ChangeEvent<HTMLInputElement>): void => {
    const picked = Array.from(event.target.files ?? []);
    event.target.value = '';
    addImages(picked.map((file) => ({ name: file.name, blob: file })));
  };
  const onSettings = async (event: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (file !== undefined) await loadSpec(await file.text());
  };
  const exportPng = async (): Promise<void> => {
    try {
      const document = await renderFigure(spec, readyRows, names, scale, canvasPngDataUrl);
      const blob = await svgToPngBlob(document.svg, document.layout.width, document.layout.height, scale);
      downloadBlob(blob, `figure@${scale}x.png`);
    } catch (error) {
      reportError(error, 'Exporting the figure as PNG');
    }
  };
  const exportSvg = async (): Promise<void> => {
    try {
      // Cells embedded at 2x: sharp in print at the usual sizes, and a file of reasonable size.
      const document = await renderFigure(spec, readyRows, names, 2, canvasPngDataUrl);
      downloadBlob(new Blob([document.svg], { type: 'image/svg+xml' }), 'figure.svg');
    } catch (error) {
      reportError(error, 'Exporting the figure as SVG');
    }
  };
  const columns = figureColumns(spec);
  const busy = status === 'busy';
  const number = (value: string, fallback: number): number => (Number.isFinite(Number(value)) ? Number(value) : fallback);

  return (
    <section className="figure panel" data-testid="figure-builder" data-state={status} aria-labelledby="figure-title">
      <div className="results-head">
        <h2 id="figure-title">Figure builder</h2>
        <p className="hint">
          Rows are images; columns are methods or labels. Save the settings to regenerate the figure with <code>npm run figure</code>.
        </p>
      </div>
      <div className="figure-layout">
        <div className="figure-controls">
          <fieldset>
            <legend>Images ({images.length})</legend>
            <div className="row wrap">
              <button type="button" className="button small" onClick={() => filesRef.current?.click()}>
                Add image files…
              </button>
              <input ref={filesRef} type="file" accept="image/*" multiple hidden onChange={onFiles} data-testid="figure-files" />
              <button
                type="button"
                className="button small"
                disabled={currentImage === null}
                onClick={() => currentImage !== null && addImages([{ name: currentImageName ?? 'image', blob: currentImage }])}
              >
                Add the current image
              </button>
              <select
                aria-label="Add a sample"
                value=""
                onChange={(event) => {
                  if (event.target.value !== '') void addSample(event.target.value);
                }}
                data-testid="figure-sample"
              >
                <option value="">Add a sample…</option>
                {samples.map((sample) => (
                  <option key={sample.file} value={sample.file}>
                    {sample.title}
                  </option>
                ))}
              </select>
            </div>
            {missing.length > 0 && (
              <p className="notice" role="status">
                The saved settings also name {missing.join(', ')}: add those files to complete the figure.
              </p>
            )}
            <ol className="figure-images" data-testid="figure-images">
              {images.map((image, index) => (
                <li key={image.name}>
                  <span className="name">{image.name}</span>
                  {failures[image.name] !== undefined && (
                    <span className="error-text" role="alert">
                      {' '}
                      {failures[image.name]}
                    </span>
                  )}
                  <button
                    type="button"
                    className="button small"
                    aria-label={`Move ${image.name} up`}
                    disabled={index === 0}
                    onClick={() => moveImage(image.name, -1)}
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    className="button small"
                    aria-label={`Move ${image.name} down`}
                    disabled={index === images.length - 1}
                    onClick={() => moveImage(image.name, 1)}
                  >
                    ↓
                  </button>
                  <button
                    type="button"
                    className="button small"
                    aria-label={`Remove ${image.name}`}
                    onClick={() => removeImage(image.name)}
                  >
                    ✕
                  </button>
                </li>
              ))}
            </ol>
          </fieldset>

          <fieldset>
            <legend>Columns</legend>
            <label>
              <input
                type="radio"
                name="figure-columns"
                checked={spec.columns === 'methods'}
                onChange={() => setSpec({ columns: 'methods' })}
              />{' '}
              Methods (one label per row)
            </label>
            <label>
              <input
                type="radio"
                name="figure-columns"
                checked={spec.columns === 'labels'}
                onChange={() => setSpec({ columns: 'labels', labels: spec.labels.length > 0 ? spec.labels : [0] })}
              />{' '}
              Labels (one method)
            </label>
            <div className="figure-methods" role="group" aria-label="Methods">
              {available.map((method) => (
                <label key={method.id}>
                  <input
                    type="checkbox"
                    checked={spec.methods.includes(method.id)}
                    onChange={() => toggleMethod(method.id)}
                    data-method={method.id}
                  />{' '}
                  {method.title}
                </label>
              ))}
            </div>
            {spec.columns === 'methods' ? (
              <label>
                Label of each row{' '}
                <select
                  value={String(spec.label)}
                  onChange={(event) => setSpec({ label: event.target.value === 'top' ? 'top' : Number(event.target.value) })}
                  data-testid="figure-label"
                >
                  <option value="top">the image's top class</option>
                  {labelNames.map((name, index) => (
                    <option key={index} value={index}>
                      {name}
                    </option>
                  ))}
                </select>
              </label>
            ) : (
              <label>
                Labels (class indices, comma-separated){' '}
                <input
                  defaultValue={spec.labels.join(',')}
                  onBlur={(event) => {
                    const labels = event.target.value
                      .split(',')
                      .map((part) => Number(part.trim()))
                      .filter((n) => Number.isInteger(n) && n >= 0 && n < labelNames.length);
                    if (labels.length > 0) setSpec({ labels: [...new Set(labels)] });
                  }}
                  data-testid="figure-labels"
                />
              </label>
            )}
            <p className="hint">
              Columns:{' '}
              {columns
                .map((c) => (spec.columns === 'methods' ? names.methodTitle(c.method) : names.labelName(c.label as number)))
                .join(', ') || 'none'}
            </p>
          </fieldset>

          <fieldset>
            <legend>Look</legend>
            <label>
              <input type="checkbox" checked={spec.showInput} onChange={(e) => setSpec({ showInput: e.target.checked })} /> Input column
            </label>
            <label>
              <input type="checkbox" checked={spec.columnTitles} onChange={(e) => setSpec({ columnTitles: e.target.checked })} /> Column
              titles
            </label>
            <label>
              <input type="checkbox" checked={spec.rowLabels} onChange={(e) => setSpec({ rowLabels: e.target.checked })} /> Row labels
            </label>
            <label>
              <input type="checkbox" checked={spec.colorBar} onChange={(e) => setSpec({ colorBar: e.target.checked })} /> Colour bar
            </label>
            <label>
              Colour map{' '}
              <select value={spec.colormap} onChange={(e) => setSpec({ colormap: e.target.value as ColormapId })}>
                {COLORMAP_IDS.map((id) => (
                  <option key={id} value={id}>
                    {COLORMAP_TITLES[id]}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Opacity {spec.opacity.toFixed(2)}{' '}
              <input
                type="range"
                min={0}
                max={1}
                step={0.05}
                value={spec.opacity}
                onChange={(e) => setSpec({ opacity: number(e.target.value, 0.5) })}
              />
            </label>
            <label>
              Gap (px){' '}
              <input
                type="number"
                min={0}
                max={40}
                value={spec.gap}
                onChange={(e) => setSpec({ gap: Math.max(0, Math.min(40, Math.round(number(e.target.value, 4)))) })}
              />
            </label>
            <label>
              Width{' '}
              <select value={spec.width} onChange={(e) => setSpec({ width: e.target.value as FigureWidth })} data-testid="figure-width">
                <option value="single">One column ({FIGURE_WIDTHS.single} mm)</option>
                <option value="double">Two columns ({FIGURE_WIDTHS.double} mm)</option>
                <option value="custom">Custom</option>
              </select>
            </label>
            {spec.width === 'custom' && (
              <label>
                Width (mm){' '}
                <input
                  type="number"
                  min={30}
                  max={400}
                  value={spec.customWidthMm}
                  onChange={(e) => setSpec({ customWidthMm: Math.max(30, Math.min(400, number(e.target.value, 120))) })}
                />
              </label>
            )}
            <label>
              Font size (px){' '}
              <input
                type="number"
                min={6}
                max={32}
                value={spec.fontSize}
                onChange={(e) => setSpec({ fontSize: Math.max(6, Math.min(32, number(e.target.value, 11))) })}
              />
            </label>
          </fieldset>
        </div>

        <div className="figure-output">
          <div className="row wrap">
            <button
              type="button"
              className="button primary"
              disabled={busy || images.length === 0 || model === null}
              onClick={() => void build()}
              data-testid="figure-build"
            >
              {complete ? 'Explained' : 'Explain the images'}
            </button>
            {busy && (
              <button type="button" className="button small" onClick={() => void cancel()}>
                Cancel
              </button>
            )}
            {progress !== null && (
              <span role="status">
                <progress max={progress.total} value={progress.done} /> {progress.done} of {progress.total} images
              </span>
            )}
          </div>
          {layoutError !== null && (
            <p className="error-text" role="alert">
              {layoutError}
            </p>
          )}
          {preview !== null ? (
            <img
              className="figure-preview"
              src={preview.url}
              alt={`Figure preview: ${readyRows.length} images by ${columns.length} columns`}
              width={preview.document.layout.width}
              height={preview.document.layout.height}
              data-testid="figure-preview"
            />
          ) : (
            <p className="hint">
              {images.length === 0 ? 'Add images to start a figure.' : 'Press “Explain the images” to draw the figure.'}
            </p>
          )}
          <div className="row wrap" role="group" aria-label="Export">
            <label>
              PNG scale{' '}
              <select value={scale} onChange={(e) => setScale(Number(e.target.value) as PngScale)} data-testid="figure-scale">
                {PNG_SCALES.map((s) => (
                  <option key={s} value={s}>
                    {s}x
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              className="button small"
              disabled={!complete || layoutError !== null}
              onClick={() => void exportPng()}
              data-testid="figure-export-png"
            >
              Export PNG
            </button>
            <button
              type="button"
              className="button small"
              disabled={!complete || layoutError !== null}
              onClick={() => void exportSvg()}
              data-testid="figure-export-svg"
            >
              Export SVG
            </button>
            <button
              type="button"
              className="button small"
              onClick={() => downloadBlob(new Blob([specJson()], { type: 'application/json' }), 'figure.json')}
              data-testid="figure-save"
            >
              Save settings
            </button>
            <button type="button" className="button small" onClick={() => settingsRef.current?.click()}>
              Load settings…
            </button>
            <input
              ref={settingsRef}
              type="file"
              accept="application/json,.json"
              hidden
              onChange={(e) => void onSettings(e)}
              data-testid="figure-load"
            />
          </div>
          {complete && <MapExports rows={readyRows} spec={spec} names={names} />}
        </div>
      </div>
    </section>
  );
}

/** One map of the figure on its own: normalised as a grayscale PNG, raw and normalised as .npy. */
function MapExports({ rows, spec, names }: { rows: NamedRow[]; spec: FigureSpec; names: FigureNames }) {
  const [choice, setChoice] = useState('0:0');
  const [r, c] = choice.split(':').map(Number) as [number, number];
  const row = rows[r] ?? rows[0]!;
  const cell = row.cells[c] ?? row.cells[0]!;
  const base = `${stem(row.name)}-${cell.method}-${names.labelName(cell.label).replace(/[^\w-]+/g, '_')}`;
  const heatColumns = figureColumns(spec).length;
  return (
    <div className="row wrap" role="group" aria-label="Export one map">
      <label>
        Map{' '}
        <select value={choice} onChange={(e) => setChoice(e.target.value)} data-testid="figure-map">
          {rows.flatMap((rr, ri) =>
            rr.cells.slice(0, heatColumns).map((cc, ci) => (
              <option key={`${ri}:${ci}`} value={`${ri}:${ci}`}>
                {rr.name} · {names.methodTitle(cc.method)} · {names.labelName(cc.label)}
              </option>
            )),
          )}
        </select>
      </label>
      <button
        type="button"
        className="button small"
        onClick={() =>
          void grayPngBlob(grayBytes(cell.normalized), cell.shape[1], cell.shape[0]).then((blob) => downloadBlob(blob, `${base}.png`))
        }
      >
        Normalised PNG
      </button>
      <button
        type="button"
        className="button small"
        onClick={() => downloadBlob(new Blob([npyFloat32(cell.normalized, cell.shape)]), `${base}.normalized.npy`)}
      >
        Normalised .npy
      </button>
      <button
        type="button"
        className="button small"
        onClick={() => downloadBlob(new Blob([npyFloat32(cell.raw, cell.shape)]), `${base}.raw.npy`)}
        data-testid="figure-npy-raw"
      >
        Raw .npy
      </button>
      <span className="hint">
        {cell.shape[0]}x{cell.shape[1]} at the method's own resolution
      </span>
    </div>
  );
}
