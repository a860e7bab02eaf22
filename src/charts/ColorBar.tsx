import { useId, useMemo } from 'react';
import { COLORMAP_TITLES, gradientStops, type ColormapId } from '../shared/colormap';

/** A horizontal colour bar for the heatmaps: 0 (low) to 1 (the map's maximum). SVG rendered by React. */
export function ColorBar({ colormap, width = 240, height = 14 }: { colormap: ColormapId; width?: number; height?: number }) {
  const stops = useMemo(() => gradientStops(colormap, 17), [colormap]);
  const gradientId = useId();
  return (
    <figure className="colorbar" data-testid="colorbar" data-colormap={colormap}>
      <svg width={width} height={height + 18} role="img" aria-label={`Colour scale ${COLORMAP_TITLES[colormap]}: low to high relevance`}>
        <defs>
          <linearGradient id={gradientId} x1="0" x2="1" y1="0" y2="0">
            {stops.map((s) => (
              <stop key={s.offset} offset={s.offset} stopColor={s.color} />
            ))}
          </linearGradient>
        </defs>
        <rect x={0} y={0} width={width} height={height} fill={`url(#${gradientId})`} rx={2} />
        <text x={0} y={height + 14} className="colorbar-tick" textAnchor="start">
          0 · low
        </text>
        <text x={width / 2} y={height + 14} className="colorbar-tick" textAnchor="middle">
          0.5
        </text>
        <text x={width} y={height + 14} className="colorbar-tick" textAnchor="end">
          high · 1
        </text>
      </svg>
      <figcaption className="muted">Each map is normalised to its own maximum (raw range in each card's tooltip).</figcaption>
    </figure>
  );
}
