/**
 * Folder evaluation in the studio (TF-free): which dropped files are images and which are their masks, and
 * the progress numbers of a running batch.
 */

export interface BatchFile {
  /** The image's name (its path inside the dropped folder when there is one). */
  name: string;
  image: Blob;
  /** Its VOC-style mask, when the folder has one. */
  mask: Blob | null;
  /** Its ground-truth labels file (`x.labels.json` or `x.txt`), when the folder has one. */
  labels?: Blob | null;
}

const IMAGE_EXTENSION = /\.(png|jpe?g|webp|gif|bmp|avif)$/i;
/** Folders that hold masks in VOC's layout and common variants. */
const MASK_FOLDER = /(^|\/)(SegmentationClass|SegmentationClassAug|masks?|labels?)\//i;

const stemOf = (path: string): string => {
  const file = path.slice(path.lastIndexOf('/') + 1);
  return file.replace(/\.mask\.png$/i, '').replace(/\.[^.]+$/, '');
};

/**
 * Splits dropped files into images, masks and labels files and pairs them by name: `cat.jpg` gets `cat.mask.png`
 * beside it, or `cat.png` in a `SegmentationClass/` or `masks/` folder, and `cat.labels.json` or `cat.txt`. Images come back in path order; files that are
 * neither are counted as skipped.
 */
export function pairFolderFiles(files: ReadonlyArray<{ path: string; file: Blob }>): { images: BatchFile[]; skipped: number } {
  const masks = new Map<string, Blob>();
  const labels = new Map<string, Blob>();
  const images: Array<{ path: string; file: Blob }> = [];
  let skipped = 0;
  for (const entry of files) {
    if (/\.labels\.json$/i.test(entry.path)) labels.set(stemOf(entry.path).replace(/\.labels$/i, ''), entry.file);
    else if (/\.txt$/i.test(entry.path)) labels.set(stemOf(entry.path), entry.file);
    else if (/\.mask\.png$/i.test(entry.path) || (MASK_FOLDER.test(entry.path) && /\.png$/i.test(entry.path)))
      masks.set(stemOf(entry.path), entry.file);
    else if (IMAGE_EXTENSION.test(entry.path)) images.push(entry);
    else skipped += 1;
  }
  images.sort((a, b) => a.path.localeCompare(b.path));
  return {
    images: images.map((entry) => ({
      name: entry.path,
      image: entry.file,
      mask: masks.get(stemOf(entry.path)) ?? null,
      labels: labels.get(stemOf(entry.path)) ?? null,
    })),
    skipped,
  };
}

/** Images per second and seconds left, from images done and the running time. */
export function batchRate(done: number, total: number, elapsedMs: number): { rate: number | null; secondsLeft: number | null } {
  if (done === 0 || elapsedMs <= 0) return { rate: null, secondsLeft: null };
  const rate = done / (elapsedMs / 1000);
  return { rate, secondsLeft: (total - done) / rate };
}
