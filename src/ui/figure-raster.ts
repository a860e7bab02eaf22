/** Browser-side rasters for the figure builder: PNG encoding on a canvas, SVG -> PNG, grayscale maps. */

function canvasOf(width: number, height: number): { canvas: HTMLCanvasElement; context: CanvasRenderingContext2D } {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (context === null) throw new Error('This browser cannot draw on a canvas.');
  return { canvas, context };
}

/** RGBA pixels as a PNG data URL (lossless, so the SVG embeds exactly these pixels). */
export async function canvasPngDataUrl(rgba: Uint8ClampedArray, width: number, height: number): Promise<string> {
  const { canvas, context } = canvasOf(width, height);
  context.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
  return canvas.toDataURL('image/png');
}

function toBlob(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob === null ? reject(new Error('The browser could not encode the PNG.')) : resolve(blob)), 'image/png'),
  );
}

/** The SVG rasterised by the browser at `scale` raster pixels per CSS pixel. */
export async function svgToPngBlob(svg: string, width: number, height: number, scale: number): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const { canvas, context } = canvasOf(Math.round(width * scale), Math.round(height * scale));
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    return await toBlob(canvas);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** One gray byte per pixel as a grayscale-looking PNG (R = G = B). */
export async function grayPngBlob(gray: Uint8Array, width: number, height: number): Promise<Blob> {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p += 1) rgba.set([gray[p]!, gray[p]!, gray[p]!, 255], p * 4);
  const { canvas, context } = canvasOf(width, height);
  context.putImageData(new ImageData(rgba, width, height), 0, 0);
  return toBlob(canvas);
}
