import { useEffect, useMemo, useRef } from 'react';
import { colorize, colormapLut, type ColormapId } from '../shared/colormap';
import type { HeatmapResult } from '../shared/protocol';

/** The heatmap coloured once per (map, colour map) into an offscreen canvas at display resolution. */
function useHeatLayer(map: HeatmapResult, colormap: ColormapId): HTMLCanvasElement | null {
  return useMemo(() => {
    const [h, w] = map.displayShape;
    if (h <= 0 || w <= 0 || map.display.length < h * w) return null;
    const layer = document.createElement('canvas');
    layer.width = w;
    layer.height = h;
    const ctx = layer.getContext('2d');
    if (!ctx) return null;
    const pixels = ctx.createImageData(w, h);
    colorize(map.display.subarray(0, h * w), colormapLut(colormap), 1, pixels.data);
    ctx.putImageData(pixels, 0, 0);
    return layer;
  }, [map, colormap]);
}

interface Props {
  map: HeatmapResult;
  image: ImageBitmap;
  colormap: ColormapId;
  opacity: number;
  label: string;
  methodTitle: string;
}

/** The image, and over it the heatmap at the chosen opacity. */
export function HeatmapCanvas({ map, image, colormap, opacity, label, methodTitle }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  const layer = useHeatLayer(map, colormap);
  const [h, w] = map.displayShape;
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    try {
      ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    } catch {
      // the bitmap was closed (a newer image replaced it): the new results redraw
    }
    if (layer) {
      ctx.globalAlpha = opacity;
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(layer, 0, 0, canvas.width, canvas.height);
      ctx.globalAlpha = 1;
    }
  }, [image, layer, opacity]);
  return (
    <canvas
      ref={ref}
      width={w}
      height={h}
      className="heatmap"
      data-testid="heatmap"
      data-method={map.method}
      data-label={map.label}
      role="img"
      aria-label={`${methodTitle} heatmap for ${label}`}
    />
  );
}
