import { useEffect, useRef, useState } from 'react';
import { useStudioStore } from '../state/react';
import { pairFolderFiles } from '../state/batch';
import { classifyFiles, collectDroppedFiles, isImageFile } from './drop';

function hasFiles(event: DragEvent): boolean {
  return Array.from(event.dataTransfer?.types ?? []).includes('Files');
}

/**
 * The whole page accepts drops (an image, a model folder / model files, or a folder of images to evaluate)
 * and pastes (an image).
 * Shows a highlight while something is dragged over.
 */
export function PageDrop() {
  const store = useStudioStore();
  const [over, setOver] = useState(false);
  const depth = useRef(0);

  useEffect(() => {
    const onDragEnter = (event: DragEvent): void => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth.current++;
      setOver(true);
    };
    const onDragOver = (event: DragEvent): void => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    };
    const onDragLeave = (event: DragEvent): void => {
      if (!hasFiles(event)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setOver(false);
    };
    const onDrop = (event: DragEvent): void => {
      depth.current = 0;
      setOver(false);
      if (!event.dataTransfer || !hasFiles(event)) return;
      event.preventDefault();
      const collected = collectDroppedFiles(event.dataTransfer); // synchronous part: before the handler returns
      void collected.then(
        ({ files, folder, paths }) => {
          const state = store.getState();
          const kind = classifyFiles(files, folder);
          if (kind.kind === 'model') void state.loadModel({ kind: 'files', files: kind.files }, kind.name);
          else if (kind.kind === 'images-folder')
            void state.startBatch(pairFolderFiles(files.map((file, i) => ({ path: paths?.[i] ?? file.name, file }))).images);
          else if (kind.kind === 'image' || kind.kind === 'images') {
            const images = kind.kind === 'image' ? [kind.file] : kind.files;
            void state.enqueueImages(images.map((file) => ({ name: file.name, blob: file })));
          } else state.reportError(new Error(kind.reason), 'Opening the dropped files');
        },
        (error: unknown) => store.getState().reportError(error, 'Reading the dropped files'),
      );
    };
    const onPaste = (event: ClipboardEvent): void => {
      const items = Array.from(event.clipboardData?.items ?? []);
      const item = items.find((i) => i.kind === 'file' && i.type.startsWith('image/'));
      const file = item?.getAsFile() ?? Array.from(event.clipboardData?.files ?? []).find(isImageFile) ?? null;
      if (!file) return; // text pastes go to their input as usual
      event.preventDefault();
      void store.getState().setImage(file, file.name && file.name !== 'image.png' ? file.name : 'pasted image');
    };
    window.addEventListener('dragenter', onDragEnter);
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('dragleave', onDragLeave);
    window.addEventListener('drop', onDrop);
    window.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('dragenter', onDragEnter);
      window.removeEventListener('dragover', onDragOver);
      window.removeEventListener('dragleave', onDragLeave);
      window.removeEventListener('drop', onDrop);
      window.removeEventListener('paste', onPaste);
    };
  }, [store]);

  return over ? (
    <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
      <div className="drop-overlay-box">Drop an image to explain it, or a model folder to load it</div>
    </div>
  ) : null;
}
