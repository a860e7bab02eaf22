/**
 * Dropped and picked files: is it a model (model.json + .bin shards, or an .onnx file; optional
 * metadata/labels) or an image? Plus a walker for dropped folders (DataTransferItem.webkitGetAsEntry).
 */

const IMAGE_EXTENSIONS = /\.(png|jpe?g|gif|webp|bmp|avif|ico|svg|tiff?)$/i;

export function isImageFile(file: { name: string; type: string }): boolean {
  return file.type.startsWith('image/') || IMAGE_EXTENSIONS.test(file.name);
}

export function isModelPart(file: { name: string }): boolean {
  return /\.(json|bin|onnx)$/i.test(file.name);
}

export type DropKind<F> =
  | { kind: 'model'; files: F[]; name: string }
  | { kind: 'images-folder'; files: F[]; name: string }
  | { kind: 'image'; file: F }
  | { kind: 'images'; files: F[] }
  | { kind: 'none'; reason: string };

/**
 * A set of files is a model when it holds a model.json (or any .bin shard): its .json and .bin files are
 * sent, the rest ignored. A dropped folder of images (no model files) is a folder to evaluate (all its files
 * are kept: masks pair with images by name). Several loose images go to the exploration queue; one is opened.
 * `folder` names the dropped folder, for the model's display name.
 */
export function classifyFiles<F extends { name: string; type: string }>(files: readonly F[], folder?: string): DropKind<F> {
  const hasModelJson = files.some((f) => f.name.toLowerCase() === 'model.json');
  const hasShard = files.some((f) => /\.bin$/i.test(f.name));
  const onnx = files.find((f) => /\.onnx$/i.test(f.name));
  if (onnx !== undefined && !hasModelJson) {
    // Beside the .onnx: metadata.json, a labels file, external data files (any name the export gave them).
    const parts = files.filter((f) => f === onnx || !isImageFile(f));
    return { kind: 'model', files: parts, name: folder && folder !== '' ? folder : onnx.name.replace(/\.onnx$/i, '') };
  }
  if (hasModelJson || hasShard) {
    const parts = files.filter(isModelPart);
    if (!hasModelJson)
      return { kind: 'none', reason: 'These files have weight shards (.bin) but no model.json: add the model.json that lists them.' };
    return { kind: 'model', files: parts, name: folder && folder !== '' ? folder : 'local model' };
  }
  const images = files.filter(isImageFile);
  const image = images[0];
  if (image && folder !== undefined && folder !== '') return { kind: 'images-folder', files: [...files], name: folder };
  if (images.length > 1) return { kind: 'images', files: images };
  if (image) return { kind: 'image', file: image };
  if (files.length === 0)
    return { kind: 'none', reason: 'Nothing to open: drop an image, a model folder (model.json and its .bin shards) or an .onnx file.' };
  return {
    kind: 'none',
    reason: `Cannot open ${files
      .map((f) => f.name)
      .slice(0, 3)
      .join(', ')}: drop an image, a model folder (model.json and its .bin shards) or an .onnx file.`,
  };
}

/** The top folder of files picked with a webkitdirectory input (from webkitRelativePath). */
export function folderOf(files: readonly File[]): string | undefined {
  for (const f of files) {
    const rel = f.webkitRelativePath;
    if (rel && rel.includes('/')) return rel.split('/')[0];
  }
  return undefined;
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function readAll(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const out: FileSystemEntry[] = [];
  // readEntries returns batches (about 100 at a time in Chromium) until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}

async function walk(entry: FileSystemEntry, out: File[], paths: string[], depth: number): Promise<void> {
  if (entry.isFile) {
    out.push(await fileOf(entry as FileSystemFileEntry));
    paths.push(entry.fullPath.replace(/^\//, ''));
  } else if (entry.isDirectory && depth < 4) {
    for (const child of await readAll(entry as FileSystemDirectoryEntry)) await walk(child, out, paths, depth + 1);
  }
}

/**
 * The files of a drop, folders walked. Must be called synchronously inside the drop handler (the
 * DataTransfer empties after it returns); the returned promise may settle later.
 */
export function collectDroppedFiles(data: DataTransfer): Promise<{ files: File[]; folder?: string; paths?: string[] }> {
  const entries: FileSystemEntry[] = [];
  for (const item of Array.from(data.items)) {
    if (item.kind !== 'file') continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
  }
  const plain = Array.from(data.files);
  if (entries.length === 0) return Promise.resolve({ files: plain });
  const folderEntry = entries.find((e) => e.isDirectory);
  return (async () => {
    const files: File[] = [];
    const paths: string[] = [];
    for (const entry of entries) await walk(entry, files, paths, 0);
    return folderEntry ? { files, folder: folderEntry.name, paths } : { files, paths };
  })();
}
