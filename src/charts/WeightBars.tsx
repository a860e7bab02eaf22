import { scaleLinear } from 'd3-scale';

/** Short numbers for slides and captions: 3 decimals, or exponent notation when very large or small. */
export const formatNumber = (v: number): string =>
  Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3);
const fmt = formatNumber;

/** All K weights as bars (d3 scales), the channels shown as thumbnails highlighted. */
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
  const bound = Math.max(1e-12, ...Array.from(weights, Math.abs));
  const x = scaleLinear()
    .domain([0, weights.length])
    .range([40, width - 8]);
  const y = scaleLinear()
    .domain([-bound, bound])
    .range([height - 20, 10]);
  const barWidth = Math.max(1, (width - 48) / weights.length - (weights.length > 200 ? 0 : 1));
  return (
    <svg className="weight-bars" width={width} height={height} role="img" aria-label={label} viewBox={`0 0 ${width} ${height}`}>
      <line x1={40} x2={width - 8} y1={y(0)} y2={y(0)} stroke="currentColor" strokeWidth={1} />
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
      <text x={36} y={y(bound) + 4} textAnchor="end">
        {fmt(bound)}
      </text>
      <text x={36} y={y(-bound) + 4} textAnchor="end">
        {fmt(-bound)}
      </text>
      <text x={(width + 40) / 2} y={height - 4} textAnchor="middle">
        channel k (0 to {weights.length - 1})
      </text>
    </svg>
  );
}
