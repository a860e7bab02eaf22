import { useEffect, useId, useRef, type ChangeEvent } from 'react';
import { RESIZE_POLICY_DESCRIPTIONS, type ResizePolicy } from '../shared/model-metadata';
import { useStudio } from '../state/react';
import { isImageFile } from './drop';
import { useSamples, type Sample } from './samples';

/** The image: open, paste or drop one, or pick a sample; how it is fitted to the model's input. */
export function ImagePanel() {
  const enqueueImages = useStudio((s) => s.enqueueImages);
  const loadSample = useStudio((s) => s.loadSample);
  const reportError = useStudio((s) => s.reportError);
  const image = useStudio((s) => s.image);
  const imageName = useStudio((s) => s.imageName);
  const imageStatus = useStudio((s) => s.imageStatus);
  const resizePolicy = useStudio((s) => s.model?.resizePolicy ?? null);
  const configuring = useStudio((s) => s.configuring);
  const configureModel = useStudio((s) => s.configureModel);
  const inputRef = useRef<HTMLInputElement>(null);
  const { samples, error: samplesError } = useSamples();
  const policyId = useId();

  const onFile = (event: ChangeEvent<HTMLInputElement>): void => {
    const input = event.target;
    const files = Array.from(input.files ?? []);
    input.value = '';
    if (files.length === 0) return;
    const rejected = files.filter((file) => !isImageFile(file) && file.type !== '');
    if (rejected.length > 0)
      reportError(new Error(`${rejected.map((file) => `${file.name} (${file.type})`).join(', ')}: not an image.`), 'Opening the image');
    const images = files.filter((file) => !rejected.includes(file));
    if (images.length > 0) void enqueueImages(images.map((file) => ({ name: file.name, blob: file })));
  };
  const onPolicy = (event: ChangeEvent<HTMLSelectElement>): void =>
    void configureModel({ resizePolicy: event.target.value as ResizePolicy });

  return (
    <section className="panel" aria-labelledby="image-title">
      <h2 id="image-title">Image</h2>
      <div className="dropzone-inline" data-testid="image-dropzone">
        <p>Drop an image anywhere on the page, paste one (Ctrl+V), or</p>
        <button type="button" className="button primary" data-testid="image-open" onClick={() => inputRef.current?.click()}>
          Choose images…
        </button>
        <input
          ref={inputRef}
          className="visually-hidden"
          type="file"
          accept="image/*"
          multiple
          data-testid="image-input"
          aria-label="Image file"
          tabIndex={-1}
          onChange={onFile}
        />
      </div>
      <div className="samples" role="group" aria-label="Sample photos">
        {samples
          .filter((sample) => sample.group === 'photos')
          .map((sample) => (
            <SampleButton key={sample.file} sample={sample} onPick={loadSample} />
          ))}
      </div>
      {samples.some((sample) => sample.group === 'shapes') && (
        <details className="shape-samples" data-testid="shape-samples">
          <summary>
            Shapes scenes (multi-label, with ground-truth masks; they open the Shapes ResNet unless a shapes model is loaded)
          </summary>
          <div className="samples" role="group" aria-label="Shapes scenes">
            {samples
              .filter((sample) => sample.group === 'shapes')
              .map((sample) => (
                <SampleButton key={sample.file} sample={sample} onPick={loadSample} />
              ))}
          </div>
        </details>
      )}
      <div>{samplesError && <p className="muted">{samplesError}</p>}</div>
      <div className="image-info" aria-live="polite" data-testid="image-status" data-state={imageStatus}>
        {imageStatus === 'loading' && <p>Reading {imageName ?? 'the image'}…</p>}
        {imageStatus === 'waiting-for-model' && <p>{imageName ?? 'The image'} is waiting for the model to finish loading.</p>}
        {image && (
          <>
            <ImagePreview bitmap={image.display} name={imageName ?? 'image'} />
            <p className="muted">
              {imageName ?? 'image'}: {image.originalWidth} × {image.originalHeight} px
            </p>
            <p data-testid="policy-description">{image.policyDescription}</p>
          </>
        )}
      </div>
      {resizePolicy && (
        <label className="field" htmlFor={policyId}>
          <span className="field-label">Fit to the model input</span>
          <select id={policyId} data-testid="resize-policy-select" value={resizePolicy} onChange={onPolicy} disabled={configuring}>
            <option value="squash">Squash (whole image)</option>
            <option value="center-crop">Centre crop</option>
          </select>
          <span className="hint">{RESIZE_POLICY_DESCRIPTIONS[resizePolicy]}</span>
        </label>
      )}
    </section>
  );
}

function SampleButton({
  sample,
  onPick,
}: {
  sample: Sample;
  onPick: (file: string, title: string, models?: readonly string[]) => Promise<void>;
}) {
  const testId = `sample-${sample.file.replace('/', '-')}`;
  return (
    <button
      type="button"
      className="sample"
      data-testid={testId}
      title={`${sample.title} — ${sample.credit}`}
      onClick={() => void onPick(sample.file, sample.title, sample.models)}
    >
      <img src={`samples/${sample.file}`} alt="" width={56} height={56} loading="lazy" />
      <span>{sample.group === 'shapes' ? (sample.labels ?? []).join(', ') || 'no object' : sample.title}</span>
    </button>
  );
}

function ImagePreview({ bitmap, name }: { bitmap: ImageBitmap; name: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    try {
      ctx.drawImage(bitmap, 0, 0);
    } catch {
      // a closed bitmap (superseded image): the next render draws the new one
    }
  }, [bitmap]);
  return <canvas ref={ref} className="preview" role="img" aria-label={`The part of ${name} the model sees`} />;
}
