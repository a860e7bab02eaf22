import { useId, useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import { useStudio } from '../state/react';
import { resolveUrl } from '../state/startup';
import { classifyFiles, folderOf } from './drop';

/** Choose a bundled model, load one from a URL, or open model files / a model folder. */
export function ModelPicker() {
  const catalog = useStudio((s) => s.catalog);
  const catalogStatus = useStudio((s) => s.catalogStatus);
  const model = useStudio((s) => s.model);
  const loadModel = useStudio((s) => s.loadModel);
  const loadModelFromUrl = useStudio((s) => s.loadModelFromUrl);
  const reportError = useStudio((s) => s.reportError);
  const [url, setUrl] = useState('');
  const filesRef = useRef<HTMLInputElement>(null);
  const folderRef = useRef<HTMLInputElement>(null);
  const urlId = useId();
  const catalogId = useId();

  const current = catalog.find((entry) => model !== null && resolveUrl(entry.url, document.baseURI) === model.source);

  const onCatalog = (event: ChangeEvent<HTMLSelectElement>): void => {
    const entry = catalog.find((e) => e.id === event.target.value);
    if (entry) void loadModelFromUrl(entry.url, entry.name);
  };
  const onUrl = (event: FormEvent): void => {
    event.preventDefault();
    void loadModelFromUrl(url);
  };
  const onFiles = (event: ChangeEvent<HTMLInputElement>): void => {
    const input = event.target;
    const files = Array.from(input.files ?? []);
    input.value = '';
    if (files.length === 0) return;
    const picked = classifyFiles(files, folderOf(files));
    if (picked.kind === 'model') void loadModel({ kind: 'files', files: picked.files }, picked.name);
    else
      reportError(
        new Error(
          picked.kind === 'none'
            ? picked.reason
            : 'Those files are an image, not a model: choose model.json and its .bin shards, or an .onnx file.',
        ),
        'Opening model files',
      );
  };

  return (
    <div className="model-picker">
      <label className="field" htmlFor={catalogId}>
        <span className="field-label">Model</span>
        <select id={catalogId} data-testid="model-select" value={current?.id ?? ''} onChange={onCatalog} disabled={catalog.length === 0}>
          {!current && (
            <option value="">
              {catalogStatus === 'error'
                ? 'No bundled models (run npm run setup)'
                : model
                  ? `${model.name} (custom)`
                  : 'Choose a bundled model…'}
            </option>
          )}
          {catalog.map((entry) => (
            <option key={entry.id} value={entry.id}>
              {entry.name}
            </option>
          ))}
        </select>
      </label>
      <form className="field url-form" onSubmit={onUrl}>
        <label htmlFor={urlId} className="field-label visually-hidden">
          Load from URL
        </label>
        <div className="row">
          <input
            id={urlId}
            type="text"
            inputMode="url"
            autoComplete="url"
            placeholder="Model URL: https://…/model.json or .onnx"
            data-testid="model-url-input"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            spellCheck={false}
          />
          <button type="submit" className="button" data-testid="model-url-load">
            Load
          </button>
        </div>
      </form>
      <div className="field">
        <span className="field-label visually-hidden">Your own model</span>
        <div className="row">
          <button
            type="button"
            className="button"
            onClick={() => filesRef.current?.click()}
            title="model.json and its .bin shards, or an .onnx file; optionally metadata.json and a labels file"
          >
            Open model files…
          </button>
          <button
            type="button"
            className="button"
            onClick={() => folderRef.current?.click()}
            title="A folder with model.json (or model.onnx), its shards, and optionally metadata.json and labels"
          >
            Open model folder…
          </button>
        </div>
        <input
          ref={filesRef}
          className="visually-hidden"
          type="file"
          multiple
          accept=".json,.bin,.onnx,application/json,application/octet-stream"
          data-testid="model-files-input"
          aria-label="Model files: model.json and .bin shards, or an .onnx file; optional metadata.json and labels"
          tabIndex={-1}
          onChange={onFiles}
        />
        <input
          ref={(el) => {
            folderRef.current = el;
            if (el) {
              el.setAttribute('webkitdirectory', '');
              el.setAttribute('directory', '');
            }
          }}
          className="visually-hidden"
          type="file"
          multiple
          data-testid="model-folder-input"
          aria-label="Model folder"
          tabIndex={-1}
          onChange={onFiles}
        />
      </div>
    </div>
  );
}
