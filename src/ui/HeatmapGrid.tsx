import { Fragment, useId, type ReactNode } from 'react';
import { isSlowMethod, methodTitle } from '../shared/methods';
import { useStudio } from '../state/react';
import { gridAxes, extrasText, formatNumber } from '../state/grid';
import type { HeatmapResult, MethodId } from '../shared/protocol';
import { HeatmapCanvas } from './HeatmapCanvas';
import { formatDuration, formatProbability } from '../shared/format';

function rangeText(map: HeatmapResult): string {
  const extras = Object.entries(map.extras ?? {}).map(([k, v]) => `${k} ${formatNumber(v)}`);
  return [
    `raw range ${formatNumber(map.rawMin)} .. ${formatNumber(map.rawMax)} (after ReLU, before normalisation)`,
    `${map.resolution === 'input' ? 'input' : 'feature'} resolution ${map.shape[0]} × ${map.shape[1]}`,
    ...extras,
  ].join('\n');
}

/**
 * A class or method name that may break after underscores, hyphens and slashes ("Arabian_<wbr>camel"),
 * besides spaces, and nowhere inside a word.
 */
export function breakable(name: string): ReactNode {
  const parts = name.split(/(?<=[_/-])/);
  if (parts.length === 1) return name;
  return parts.map((part, index) => (
    <Fragment key={index}>
      {part}
      {index < parts.length - 1 && <wbr />}
    </Fragment>
  ));
}

/** The grid of the current image: rows = labels and columns = methods (or transposed). */
export function HeatmapGrid() {
  const result = useStudio((s) => s.result);
  const image = useStudio((s) => s.image);
  const colormap = useStudio((s) => s.colormap);
  const opacity = useStudio((s) => s.opacity);
  const methodInfo = useStudio((s) => s.model?.methods ?? null);
  const highlighted = useStudio((s) => s.highlightedMethod);
  const transposed = useStudio((s) => s.gridTransposed);
  const labelNames = useStudio((s) => s.model?.labelNames);
  const setTransposed = useStudio((s) => s.setGridTransposed);
  const scorecamCap = useStudio((s) => s.methodOptions.scorecam.maxChannels);
  const setMethodOptions = useStudio((s) => s.setMethodOptions);
  const toggleId = useId();
  if (!result || !image) return null;
  if (result.maps.length === 0) {
    return <p className="muted">No heatmaps: tick a prediction and at least one method.</p>;
  }
  const names = new Map(result.predictions.map((p) => [p.label, p.name]));
  const nameOf = (label: number): string => names.get(label) ?? labelNames?.[label] ?? `class ${label}`;
  const titleOf = (id: MethodId): string => methodTitle(id, methodInfo);
  const { labels, methods } = gridAxes(result);
  const byKey = new Map(result.maps.map((m) => [`${m.method}\u0000${m.label}`, m]));
  const mapAt = (method: MethodId, label: number): HeatmapResult | undefined => byKey.get(`${method}\u0000${label}`);
  const probOf = (label: number): string => {
    const p = result.predictions.find((q) => q.label === label);
    return p ? ` · ${formatProbability(p.prob)}` : '';
  };
  const columns = transposed ? labels.length : methods.length;
  // The largest cell for this many columns; CSS shrinks cells to fit the width (styles.css, .grid-scroll).
  const cellMax = columns <= 2 ? 300 : columns <= 4 ? 240 : 200;

  const labelHeader = (label: number) => (
    <>
      <span className="axis-name">{breakable(nameOf(label))}</span>
      <span className="muted small">
        #{label}
        {probOf(label)}
        {result.detected?.includes(label) ? ' · detected' : ''}
      </span>
    </>
  );
  const methodHeader = (method: MethodId) => (
    <>
      <span className="axis-name">{breakable(titleOf(method))}</span>
      <span className="muted small">
        {result.timingsMs.methods[method] !== undefined ? formatDuration(result.timingsMs.methods[method] ?? 0) : ''}
        {isSlowMethod(method) ? ' · slow' : ''}
      </span>
    </>
  );

  const cell = (method: MethodId, label: number) => {
    const map = mapAt(method, label);
    if (!map) {
      return (
        <td key={`${method}-${label}`} className="grid-cell empty-cell">
          <span className="muted small">no map</span>
        </td>
      );
    }
    const name = nameOf(label);
    const extras = extrasText(map.extras);
    return (
      <td key={`${method}-${label}`} className="grid-cell">
        <figure
          className={highlighted === method ? 'card highlighted' : 'card'}
          title={rangeText(map)}
          data-testid="heatmap-cell"
          data-method={method}
          data-label={label}
          data-highlighted={highlighted === method}
        >
          <HeatmapCanvas map={map} image={image.display} colormap={colormap} opacity={opacity} label={name} methodTitle={titleOf(method)} />
          <figcaption>
            {/* The row and column headers name the method and the label; screen readers hear them here too. */}
            <span className="visually-hidden">
              {titleOf(method)} · {name}
            </span>
            <span className="muted small range">
              raw {map.rawMin.toPrecision(3)}..{map.rawMax.toPrecision(3)}
              {map.resolution === 'input' ? ' · input resolution' : ''}
            </span>
            {extras && (
              <span className="small extras" data-testid="heatmap-extras">
                {extras}
              </span>
            )}
          </figcaption>
        </figure>
      </td>
    );
  };

  const rowKeys: (MethodId | number)[] = transposed ? methods : labels;
  const colKeys: (MethodId | number)[] = transposed ? labels : methods;
  return (
    <div className="heatmap-grid" style={{ ['--columns' as string]: String(columns), ['--cell-max' as string]: `${cellMax}px` }}>
      <div className="grid-toolbar">
        <label className="check" htmlFor={toggleId}>
          <input
            id={toggleId}
            type="checkbox"
            data-testid="grid-transpose"
            checked={transposed}
            onChange={(e) => setTransposed(e.target.checked)}
          />
          Rows are methods (transpose)
        </label>
        <span className="muted small">
          {labels.length} label{labels.length === 1 ? '' : 's'} × {methods.length} method{methods.length === 1 ? '' : 's'}; hover a map for
          its raw range.
        </span>
        {methods.includes('scorecam') && scorecamCap !== null && (
          <span className="small" data-testid="scorecam-cap-note">
            Score-CAM scored the {scorecamCap} channels of largest variance (Faster-Score-CAM), to finish in reasonable time.{' '}
            <button
              type="button"
              className="button small"
              data-testid="scorecam-all-channels"
              onClick={() => void setMethodOptions({ scorecam: { maxChannels: null } })}
              title="One masked forward pass per channel: on a CPU this can take many minutes (progress shows the time left)"
            >
              Score all channels
            </button>
          </span>
        )}
      </div>
      <div className="grid-scroll" role="region" aria-label="Heatmaps" tabIndex={0}>
        <table className="heatmap-table" data-testid="heatmap-table" data-transposed={transposed}>
          <caption className="visually-hidden">
            Heatmaps: rows are {transposed ? 'methods' : 'labels'}, columns are {transposed ? 'labels' : 'methods'}.
          </caption>
          <thead>
            <tr>
              <th scope="col" className="corner">
                <span className="muted small">{transposed ? 'method \\ label' : 'label \\ method'}</span>
              </th>
              {colKeys.map((key) => (
                <th key={String(key)} scope="col" className="col-head" data-testid="grid-column-header">
                  {transposed ? labelHeader(key as number) : methodHeader(key as MethodId)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rowKeys.map((row) => (
              <tr
                key={String(row)}
                className="heatmap-row"
                aria-label={transposed ? `Explanations by ${titleOf(row as MethodId)}` : `Explanations for ${nameOf(row as number)}`}
              >
                <th scope="row" className="row-head">
                  {transposed ? methodHeader(row as MethodId) : labelHeader(row as number)}
                </th>
                {colKeys.map((col) => (transposed ? cell(row as MethodId, col as number) : cell(col as MethodId, row as number)))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
