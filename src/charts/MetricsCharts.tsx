import { scaleBand, scaleLinear, scaleOrdinal } from 'd3-scale';
import { line } from 'd3-shape';
import { useRef } from 'react';
import type { MetricsTable } from './metrics-table';

const WIDTH = 640;
const BAR_HEIGHT = 260;
const MARGIN = { top: 28, right: 12, bottom: 42, left: 40 };
const FONT = 'system-ui, sans-serif';

export interface MethodStyle {
  id: string;
  title: string;
}

/**
 * The categorical palette of Okabe and Ito ("Color Universal Design", 2008): eight colours that readers with
 * any common colour-vision deficiency can tell apart (black moved last, as it reads as text), then the
 * same colours again for a ninth method on.
 */
export const CATEGORICAL_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

/** One colour per method, stable for the list given. */
export function methodColours(methods: readonly string[]): (method: string) => string {
  const scale = scaleOrdinal<string, string>().domain(methods).range(CATEGORICAL_COLOURS);
  return (method) => scale(method);
}

const LEGEND_ROW = 16;

/** Legend entries laid out in rows that wrap inside `[left, right]`: each entry's x and row. */
export function legendLayout(titles: readonly string[], left: number, right: number, charWidth = 6.6): { x: number; row: number }[] {
  let x = left;
  let row = 0;
  return titles.map((title) => {
    const width = 20 + title.length * charWidth;
    if (x > left && x + width > right) {
      x = left;
      row += 1;
    }
    const place = { x, row };
    x += width + 10;
    return place;
  });
}

/**
 * Grouped bars: one group per percentage metric, one bar per method, 0-100 %, with "higher / lower is better"
 * arrows in the group labels. Plain SVG (print-ready, exportable). Hovering a bar reports its method.
 */
export function MetricsBarChart({
  table,
  methods,
  onHover,
}: {
  table: MetricsTable;
  methods: readonly MethodStyle[];
  onHover?: (method: string | null) => void;
}) {
  const rows = table.rows.filter((row) => row.metric.percent);
  const colour = methodColours(methods.map((m) => m.id));
  const x = scaleBand<string>()
    .domain(rows.map((row) => row.metric.id))
    .range([MARGIN.left, WIDTH - MARGIN.right])
    .paddingInner(0.25)
    .paddingOuter(0.1);
  const inner = scaleBand<string>().domain(table.methods).range([0, x.bandwidth()]).padding(0.08);
  const y = scaleLinear()
    .domain([0, 100])
    .range([BAR_HEIGHT - MARGIN.bottom, MARGIN.top]);
  const titleOf = (id: string): string => methods.find((m) => m.id === id)?.title ?? id;
  const legend = legendLayout(table.methods.map(titleOf), MARGIN.left, WIDTH - MARGIN.right);
  const legendRows = (legend.at(-1)?.row ?? 0) + 1;
  const height = BAR_HEIGHT + (legendRows - 1) * LEGEND_ROW;
  return (
    <svg
      className="chart"
      data-testid="metrics-bars"
      viewBox={`0 0 ${WIDTH} ${height}`}
      width={WIDTH}
      height={height}
      role="img"
      aria-label="Faithfulness metrics by method"
      fontFamily={FONT}
      fontSize={11}
    >
      <rect x={0} y={0} width={WIDTH} height={height} fill="#fff" />
      {y.ticks(5).map((tick) => (
        <g key={tick}>
          <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={y(tick)} y2={y(tick)} stroke="#ddd" />
          <text x={MARGIN.left - 6} y={y(tick)} dy="0.32em" textAnchor="end" fill="#333">
            {tick}
          </text>
        </g>
      ))}
      <text x={12} y={MARGIN.top - 12} fill="#333">
        %
      </text>
      {rows.map((row) => (
        <g key={row.metric.id} transform={`translate(${x(row.metric.id) ?? 0},0)`}>
          {row.cells.map((cell, i) => {
            const method = table.methods[i]!;
            if (cell.value === null) return null;
            return (
              <rect
                key={method}
                data-method={method}
                x={inner(method) ?? 0}
                width={inner.bandwidth()}
                y={y(cell.value)}
                height={Math.max(0, y(0) - y(cell.value))}
                fill={colour(method)}
                onMouseEnter={() => onHover?.(method)}
                onMouseLeave={() => onHover?.(null)}
              >
                <title>{`${titleOf(method)} · ${row.metric.name}: ${cell.value.toFixed(1)}`}</title>
              </rect>
            );
          })}
          <text x={x.bandwidth() / 2} y={BAR_HEIGHT - MARGIN.bottom + 16} textAnchor="middle" fill="#111" fontWeight={600}>
            {row.metric.name} {row.metric.higherIsBetter ? '↑' : '↓'}
          </text>
        </g>
      ))}
      <Legend methods={table.methods} titleOf={titleOf} colour={colour} places={legend} y={BAR_HEIGHT - 10} />
    </svg>
  );
}

function Legend({
  methods,
  titleOf,
  colour,
  places,
  y,
}: {
  methods: readonly string[];
  titleOf: (id: string) => string;
  colour: (id: string) => string;
  places: readonly { x: number; row: number }[];
  y: number;
}) {
  return (
    <g data-testid="chart-legend">
      {methods.map((method, index) => {
        const { x, row } = places[index] ?? { x: 0, row: 0 };
        return (
          <g key={method} transform={`translate(${x},${y + row * LEGEND_ROW})`}>
            <rect x={0} y={-9} width={10} height={10} fill={colour(method)} />
            <text x={14} y={0} fill="#111">
              {titleOf(method)}
            </text>
          </g>
        );
      })}
    </g>
  );
}

export interface CurveSet {
  label: number;
  name: string;
  /** Per method: fractions and the deletion / insertion probabilities. */
  byMethod: Array<{ method: string; fractions: number[]; deletion: number[]; insertion: number[] }>;
}

const SMALL = { width: 300, height: 190, margin: { top: 26, right: 10, bottom: 30, left: 36 } };

/** Deletion (dashed) and insertion (solid) curves: one small multiple per label, one colour per method. */
export function CurvesChart({ sets, methods }: { sets: readonly CurveSet[]; methods: readonly MethodStyle[] }) {
  const colour = methodColours(methods.map((m) => m.id));
  const columns = Math.min(2, Math.max(1, sets.length));
  const rowsCount = Math.ceil(sets.length / columns);
  const width = columns * SMALL.width;
  const titleOf = (id: string): string => methods.find((m) => m.id === id)?.title ?? id;
  const legend = legendLayout(
    methods.map((m) => titleOf(m.id)),
    12,
    width - 12,
  );
  const legendRows = (legend.at(-1)?.row ?? 0) + 1;
  const gridHeight = rowsCount * SMALL.height;
  const height = gridHeight + 20 + legendRows * LEGEND_ROW + 12;
  const { margin } = SMALL;
  const x = scaleLinear()
    .domain([0, 1])
    .range([margin.left, SMALL.width - margin.right]);
  const y = scaleLinear()
    .domain([0, 1])
    .range([SMALL.height - margin.bottom, margin.top]);
  const path = line<[number, number]>()
    .x((d) => x(d[0]))
    .y((d) => y(d[1]));
  return (
    <svg
      className="chart"
      data-testid="metrics-curves"
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      role="img"
      aria-label="Deletion and insertion curves per label"
      fontFamily={FONT}
      fontSize={11}
    >
      <rect x={0} y={0} width={width} height={height} fill="#fff" />
      {sets.map((set, index) => (
        <g key={set.label} transform={`translate(${(index % columns) * SMALL.width},${Math.floor(index / columns) * SMALL.height})`}>
          <text x={margin.left} y={margin.top - 10} fill="#111" fontWeight={600}>
            {set.name}
          </text>
          {[0, 0.5, 1].map((tick) => (
            <g key={tick}>
              <line x1={x(0)} x2={x(1)} y1={y(tick)} y2={y(tick)} stroke="#e3e3e3" />
              <text x={margin.left - 5} y={y(tick)} dy="0.32em" textAnchor="end" fill="#333">
                {tick}
              </text>
              <text x={x(tick)} y={SMALL.height - margin.bottom + 14} textAnchor="middle" fill="#333">
                {tick}
              </text>
            </g>
          ))}
          {set.byMethod.map((curve) => (
            <g key={curve.method} data-method={curve.method}>
              <path
                d={path(curve.fractions.map((f, i) => [f, curve.insertion[i]!] as [number, number])) ?? ''}
                fill="none"
                stroke={colour(curve.method)}
                strokeWidth={1.8}
              />
              <path
                d={path(curve.fractions.map((f, i) => [f, curve.deletion[i]!] as [number, number])) ?? ''}
                fill="none"
                stroke={colour(curve.method)}
                strokeWidth={1.8}
                strokeDasharray="5 3"
              />
            </g>
          ))}
        </g>
      ))}
      <Legend methods={methods.map((m) => m.id)} titleOf={titleOf} colour={colour} places={legend} y={gridHeight + 14} />
      <text x={12} y={height - 8} fill="#333">
        x: fraction of pixels removed (dashed, deletion) or added (solid, insertion); y: probability of the label
      </text>
    </svg>
  );
}

/** Saves a file (the page's download; charts get it as a prop and never import the UI). */
export type SaveFile = (blob: Blob, fileName: string) => void;

/** Buttons that save an SVG (as drawn) or a PNG of it at 2x. */
export function ChartExport({ target, name, onSave }: { target: React.RefObject<HTMLDivElement | null>; name: string; onSave: SaveFile }) {
  const svgText = (): string | null => {
    const svg = target.current?.querySelector('svg');
    if (!svg) return null;
    const copy = svg.cloneNode(true) as SVGSVGElement;
    copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
    return new XMLSerializer().serializeToString(copy);
  };
  const save = onSave;
  const saveSvg = (): void => {
    const text = svgText();
    if (text) save(new Blob([text], { type: 'image/svg+xml' }), `${name}.svg`);
  };
  const savePng = (): void => {
    const text = svgText();
    const svg = target.current?.querySelector('svg');
    if (!text || !svg) return;
    const width = Number(svg.getAttribute('width'));
    const height = Number(svg.getAttribute('height'));
    const image = new Image();
    image.onload = () => {
      const canvas = document.createElement('canvas');
      canvas.width = width * 2;
      canvas.height = height * 2;
      const context = canvas.getContext('2d');
      if (!context) return;
      context.scale(2, 2);
      context.drawImage(image, 0, 0, width, height);
      canvas.toBlob((blob) => blob && save(blob, `${name}.png`), 'image/png');
    };
    image.src = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  };
  return (
    <span className="row">
      <button type="button" className="button" data-testid={`${name}-svg`} onClick={saveSvg}>
        SVG
      </button>
      <button type="button" className="button" data-testid={`${name}-png`} onClick={savePng}>
        PNG (2x)
      </button>
    </span>
  );
}

/** A chart with its export buttons. */
export function ExportableChart({
  name,
  title,
  onSave,
  children,
}: {
  name: string;
  title: string;
  onSave: SaveFile;
  children: React.ReactNode;
}) {
  const ref = useRef<HTMLDivElement>(null);
  return (
    <figure className="chart-figure">
      <figcaption className="row">
        <span>{title}</span>
        <ChartExport target={ref} name={name} onSave={onSave} />
      </figcaption>
      <div ref={ref}>{children}</div>
    </figure>
  );
}
