import { scaleLinear } from 'd3-scale';

/** Short numbers for slides and captions: 3 decimals, or exponent notation when very large or small. */
export const formatNumber = (v: number): string =>
  Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3);
const fmt = formatNumber;

/**
 * All K weights as bars on d3 scales with axes (weight ticks and grid, channel ticks), the channels shown as
 * thumbnails highlighted; each bar's tooltip gives its channel and weight. Scales to its card's width.
 */
export function WeightBars({
  weights,
  highlight,
  label,
  onPick,
}: {
  weights: Float32Array;
  highlight: readonly number[];
  label: string;
  onPick?: (channel: number) => void;
}) {
  const width = 560;
  const height = 200;
  const left = 56;
  const bottom = 34;
  const bound = Math.max(1e-12, ...Array.from(weights, Math.abs));
  const x = scaleLinear()
    .domain([0, weights.length])
    .range([left, width - 8]);
  const y = scaleLinear()
    .domain([-bound, bound])
    .range([height - bottom, 10])
    .nice(4);
  const barWidth = Math.max(1, (width - left - 8) / weights.length - (weights.length > 200 ? 0 : 1));
  const yTicks = y.ticks(4);
  const xTicks = x.ticks(6).filter((k) => Number.isInteger(k) && k < weights.length);
  const tickFormat = y.tickFormat(4);
  return (
    <svg className="weight-bars" width={width} height={height} role="img" aria-label={label} viewBox={`0 0 ${width} ${height}`}>
      <g className="weight-bars-grid" aria-hidden="true">
        {yTicks.map((tick) => (
          <g key={tick}>
            <line x1={left} x2={width - 8} y1={y(tick)} y2={y(tick)} stroke="currentColor" strokeOpacity={tick === 0 ? 1 : 0.2} />
            <text x={left - 6} y={y(tick) + 4} textAnchor="end">
              {tickFormat(tick)}
            </text>
          </g>
        ))}
        <line x1={left} x2={left} y1={y.range()[0]} y2={y.range()[1]} stroke="currentColor" />
        {xTicks.map((tick) => (
          <g key={tick}>
            <line x1={x(tick)} x2={x(tick)} y1={height - bottom} y2={height - bottom + 4} stroke="currentColor" />
            <text x={x(tick)} y={height - bottom + 16} textAnchor="middle">
              {tick}
            </text>
          </g>
        ))}
      </g>
      {Array.from(weights, (w, k) => (
        <rect
          key={k}
          x={x(k)}
          width={barWidth}
          y={Math.min(y(w), y(0))}
          height={Math.max(1, Math.abs(y(w) - y(0)))}
          className={highlight.includes(k) ? 'bar-highlight' : w >= 0 ? 'bar-positive' : 'bar-negative'}
          {...(onPick === undefined ? {} : { onClick: () => onPick(k), style: { cursor: 'pointer' } })}
        >
          <title>
            k = {k}: {fmt(w)}
          </title>
        </rect>
      ))}
      <text x={(width + left) / 2} y={height - 2} textAnchor="middle">
        channel k (0 to {weights.length - 1})
      </text>
      <text x={12} y={(height - bottom + 10) / 2} textAnchor="middle" transform={`rotate(-90 12 ${(height - bottom + 10) / 2})`}>
        weight
      </text>
    </svg>
  );
}
