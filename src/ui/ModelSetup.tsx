import { useId, useRef, useState, type ChangeEvent } from 'react';
import { parseLabels } from '../shared/labels';
import { useStudio } from '../state/react';
import { PreprocessingField } from './PreprocessingField';

/** A labels file as class names: JSON (a list, an index -> name object, Keras' class index) or text, one per line. */
function namesFromText(text: string, numClasses: number): { names: string[]; notes: string[] } {
  try {
    return parseLabels(JSON.parse(text) as unknown, numClasses);
  } catch {
    return parseLabels(
      text
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== ''),
      numClasses,
    );
  }
}

/**
 * Shown when a model came without metadata.json or labels (a single .onnx file dropped on the studio, say):
 * asks how its inputs are prepared and what its classes are called, with torchvision's ImageNet
 * normalisation and, for 1000 classes, ImageNet's class names as the suggestions.
 */
export function ModelSetup() {
  const model = useStudio((s) => s.model);
  const configuring = useStudio((s) => s.configuring);
  const configureModel = useStudio((s) => s.configureModel);
  const reportError = useStudio((s) => s.reportError);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const fileRef = useRef<HTMLInputElement | null>(null);
  const headingId = useId();
  if (model === null || dismissed === model.loadId) return null;
  // What the model came without (the panel stays, with its choices, while the user makes them, until Done).
  const needsLabels = model.labelsSource === 'none' || model.labelsSource === 'your labels';
  const guessedPreprocessing = model.preprocessingSource !== 'metadata';
  if (!needsLabels && !guessedPreprocessing) return null;

  const apply = async (names: string[], notes: string[], source: string): Promise<void> => {
    await configureModel({ labels: names });
    setMessage(`Class names from ${source}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}.`);
  };
  const onFile = async (event: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (file === undefined) return;
    const { names, notes } = namesFromText(await file.text(), model.numClasses);
    await apply(names, notes, file.name);
  };
  const applyImagenetNames = async (): Promise<void> => {
    try {
      const response = await fetch(new URL('models/resnet50-imagenet/labels.json', document.baseURI));
      if (!response.ok) throw new Error(`HTTP ${response.status}: run npm run setup to fetch the bundled ResNet50 and its labels`);
      const { names, notes } = parseLabels((await response.json()) as unknown, model.numClasses);
      await apply(names, notes, "ImageNet's 1000 classes");
    } catch (error) {
      reportError(error, "Reading ImageNet's class names");
    }
  };

  return (
    <section className="panel setup" aria-labelledby={headingId} data-testid="model-setup">
      <h2 id={headingId}>Set up this model</h2>
      <p className="small">
        {model.name} came without{' '}
        {[guessedPreprocessing ? 'a metadata.json' : null, needsLabels ? 'a labels file' : null]
          .filter((part) => part !== null)
          .join(' or ')}
        : {guessedPreprocessing ? 'check how its inputs are prepared' : ''}
        {model.preprocessingSource === 'default' && model.preprocessing === 'torch'
          ? " (the guess: torchvision's ImageNet normalisation, what most PyTorch models use)"
          : ''}
        {guessedPreprocessing && needsLabels ? ' and ' : ''}
        {needsLabels ? 'name its classes' : ''}.
      </p>
      {guessedPreprocessing && <PreprocessingField model={model} testId="setup-preprocessing-select" />}
      {needsLabels && (
        <div className="row wrap">
          <button
            type="button"
            className="button"
            disabled={configuring}
            onClick={() => fileRef.current?.click()}
            data-testid="setup-labels-file"
          >
            Labels file…
          </button>
          <input
            ref={fileRef}
            type="file"
            accept=".json,.txt,application/json,text/plain"
            hidden
            onChange={(event) => void onFile(event)}
          />
          {model.numClasses === 1000 && (
            <button
              type="button"
              className="button"
              disabled={configuring}
              onClick={() => void applyImagenetNames()}
              data-testid="setup-imagenet-labels"
            >
              Use ImageNet&apos;s class names
            </button>
          )}
        </div>
      )}
      {message !== null && (
        <p className="small" role="status">
          {message}
        </p>
      )}
      <button type="button" className="button small" onClick={() => setDismissed(model.loadId)} data-testid="setup-done">
        Done
      </button>
    </section>
  );
}
