import { interpolateRdBu } from 'd3-scale-chromatic';
import { useEffect, useRef } from 'react';
import { colorize, colormapLut, parseColor } from '../shared/colormap';
import { resizeBilinear } from '../shared/resample';

const VIEW = 300;

/** A map drawn cell by cell (pixelated: the h x w grid shows) or smoothed, in a sequential or diverging colour map. */
export function MapView({
  values,
  shape,
  mode,
  size = VIEW,
  label,
  smooth = false,
  under,
}: {
  values: Float32Array;
  shape: [number, number];
  mode: 'sequential' | 'diverging';
  size?: number;
  label: string;
  smooth?: boolean;
  under?: ImageBitmap | null;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const context = canvas?.getContext('2d');
    if (!canvas || !context) return;
    const [h, w] = shape;
    const grid = smooth ? resizeBilinear(values, h, w, size, size) : values;
    const [gh, gw] = smooth ? [size, size] : [h, w];
    let rgba: Uint8ClampedArray<ArrayBuffer>;
    if (mode === 'diverging') {
      const bound = Math.max(1e-12, ...Array.from(grid, Math.abs));
      rgba = new Uint8ClampedArray(gh * gw * 4);
      grid.forEach((v, p) => {
        const [r, g, b] = parseColor(interpolateRdBu(0.5 - v / bound / 2));
        rgba.set([r, g, b, 255], p * 4);
      });
    } else {
      let min = Infinity;
      let max = -Infinity;
      for (const v of grid) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      const range = max - min;
      rgba = new Uint8ClampedArray(gh * gw * 4);
      colorize(
        grid.map((v) => (range > 0 ? (v - min) / range : 0)),
        colormapLut('turbo'),
        under ? 0.55 : 1,
        rgba,
      );
    }
    const layer = document.createElement('canvas');
    layer.width = gw;
    layer.height = gh;
    layer.getContext('2d')?.putImageData(new ImageData(rgba, gw, gh), 0, 0);
    context.clearRect(0, 0, size, size);
    if (under) {
      try {
        context.drawImage(under, 0, 0, size, size);
      } catch {
        // the bitmap was replaced by a newer image
      }
    }
    context.imageSmoothingEnabled = false;
    context.drawImage(layer, 0, 0, size, size);
  }, [values, shape, mode, size, smooth, under]);
  return <canvas ref={ref} width={size} height={size} className="classroom-map" role="img" aria-label={label} />;
}
