import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { formatNumber as fmt, WeightBars } from '../charts/WeightBars';
import { WALKTHROUGH_STEPS, type WalkthroughMethod, type WalkthroughStep } from '../state/constants';
import { classroomLabels, walkthroughKey } from '../state/selectors';
import { useStudio } from '../state/react';
import type { WalkthroughData, WalkthroughMap } from '../shared/protocol';
import { Formula } from './Formula';
import { MapView } from './MapView';

const STEP_TITLES: Record<WalkthroughStep, string> = {
  input: 'The input and the class score',
  features: 'Feature maps Aᵏ of the target layer',
  weights: 'One weight per feature map',
  sum: 'The weighted sum',
  relu: 'Keep the positive evidence (ReLU)',
  upsample: 'Normalise and upsample to the image',
  overlay: 'Overlay on the image',
  gradcam: "Grad-CAM's weights: gradients",
  minmax: 'MinMax-CAM: subtract the other label',
};

const METHOD_TITLES: Record<WalkthroughMethod, string> = { cam: 'CAM', gradcam: 'Grad-CAM', 'minmax-cam': 'MinMax-CAM' };

/** The weights and the weighted sum of the chosen method (CAM weights are missing without a GAP -> Dense head). */
function methodNumbers(
  data: WalkthroughData,
  method: WalkthroughMethod,
): { weights: Float32Array; sum: WalkthroughMap; method: WalkthroughMethod } {
  if (method === 'minmax-cam' && data.weights.minmax !== null && data.sums.minmax !== null)
    return { weights: data.weights.minmax, sum: data.sums.minmax, method };
  if (method !== 'gradcam' && data.weights.cam !== null && data.sums.cam !== null)
    return { weights: data.weights.cam, sum: data.sums.cam, method: 'cam' };
  return { weights: data.weights.gradcam, sum: data.sums.gradcam, method: 'gradcam' };
}

/**
 * The classroom walkthrough: how a CAM is made for the current image and label, one step at a time, live,
 * in large type. Keys: → / ← (or PageDown / PageUp, Space) step, L / Shift+L next / previous label,
 * C contrast label, M method, Home / End first / last step.
 */
export function Classroom() {
  const mode = useStudio((s) => s.mode);
  const step = useStudio((s) => s.classroomStep);
  const method = useStudio((s) => s.classroomMethod);
  const data = useStudio((s) => s.walkthrough);
  const status = useStudio((s) => s.walkthroughStatus);
  const key = useStudio(walkthroughKey);
  const label = useStudio((s) => classroomLabels(s).label);
  const contrast = useStudio((s) => classroomLabels(s).contrast);
  const labels = { label, contrast };
  const predictions = useStudio((s) => s.result?.predictions ?? null);
  const labelNames = useStudio((s) => s.model?.labelNames);
  const display = useStudio((s) => s.image?.display ?? null);
  const image = useStudio((s) => s.image);
  const setStep = useStudio((s) => s.setClassroomStep);
  const stepBy = useStudio((s) => s.stepClassroom);
  const cycleMethod = useStudio((s) => s.cycleClassroomMethod);
  const cycleLabel = useStudio((s) => s.cycleClassroomLabel);
  const load = useStudio((s) => s.loadWalkthrough);
  const stageRef = useRef<HTMLDivElement>(null);
  const detectedCount = useStudio((s) => s.result?.detected.length ?? 0);
  const [presenting, setPresenting] = useState(false);
  // Presentation: the stage alone, full screen (the Fullscreen API where allowed, else fixed over the page).
  const present = (on: boolean): void => {
    setPresenting(on);
    const stage = stageRef.current;
    if (on && stage !== null && document.fullscreenElement === null) stage.requestFullscreen?.().catch(() => undefined);
    if (!on && document.fullscreenElement !== null) void document.exitFullscreen().catch(() => undefined);
    stage?.focus();
  };
  useEffect(() => {
    const onChange = (): void => {
      if (document.fullscreenElement === null) setPresenting(false);
    };
    document.addEventListener('fullscreenchange', onChange);
    return () => document.removeEventListener('fullscreenchange', onChange);
  }, []);

  useEffect(() => {
    if (mode === 'classroom' && key !== null) void load();
  }, [mode, key, load]);
  useEffect(() => {
    if (mode === 'classroom') stageRef.current?.focus();
  }, [mode]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const keyName = event.key;
    const handled = (() => {
      if (keyName === 'ArrowRight' || keyName === 'PageDown' || keyName === ' ') return (stepBy(1), true);
      if (keyName === 'ArrowLeft' || keyName === 'PageUp') return (stepBy(-1), true);
      if (keyName === 'Home') return (setStep(0), true);
      if (keyName === 'End') return (setStep(WALKTHROUGH_STEPS.length - 1), true);
      if (keyName === 'l' || keyName === 'L') return (cycleLabel('label', event.shiftKey ? -1 : 1), true);
      if (keyName === 'c' || keyName === 'C') return (cycleLabel('contrast', event.shiftKey ? -1 : 1), true);
      if (keyName === 'm' || keyName === 'M') return (cycleMethod(), true);
      if (keyName === 'f' || keyName === 'F') return (present(!presenting), true);
      if (keyName === 'Escape' && presenting) return (present(false), true);
      return false;
    })();
    if (handled) event.preventDefault();
  };

  const nameOf = (label: number | null): string =>
    label === null ? '—' : (predictions?.find((p) => p.label === label)?.name ?? labelNames?.[label] ?? `class ${label}`);
  const current = WALKTHROUGH_STEPS[step]!;
  const ready = data !== null && status !== 'error' && data.label === labels.label;
  const numbers = ready ? methodNumbers(data, method) : null;
  // Steps 8 and 9 are about one method each: their chip names it, whatever M chose for the middle steps.
  const shownMethod: WalkthroughMethod =
    current === 'minmax' ? 'minmax-cam' : current === 'gradcam' ? 'gradcam' : (numbers?.method ?? method);

  return (
    <section className="classroom" aria-labelledby="classroom-title">
      <div
        className={presenting ? 'classroom-stage presenting' : 'classroom-stage'}
        ref={stageRef}
        data-presenting={presenting}
        tabIndex={0}
        onKeyDown={onKeyDown}
        data-testid="classroom"
        data-step={current}
        data-method={numbers?.method ?? method}
        data-label={labels.label ?? ''}
        data-state={status}
        aria-describedby="classroom-keys"
      >
        <header className="classroom-head">
          <h2 id="classroom-title">
            <span className="step-count">
              {step + 1} / {WALKTHROUGH_STEPS.length}
            </span>{' '}
            {STEP_TITLES[current]}
          </h2>
          <div className="classroom-choices">
            <button type="button" onClick={() => cycleLabel('label', 1)} aria-label={`Label: ${nameOf(labels.label)} (L for the next)`}>
              Label: <b>{nameOf(labels.label)}</b>
            </button>
            <button type="button" onClick={() => cycleMethod()} aria-label={`Method: ${METHOD_TITLES[method]} (M to switch)`}>
              Method: <b data-testid="classroom-method-chip">{METHOD_TITLES[shownMethod]}</b>
            </button>
            <button
              type="button"
              onClick={() => cycleLabel('contrast', 1)}
              aria-label={`Contrast label: ${nameOf(labels.contrast)} (C for the next)`}
            >
              Contrast: <b>{nameOf(labels.contrast)}</b>
            </button>
            <button
              type="button"
              onClick={() => present(!presenting)}
              data-testid="classroom-present"
              aria-pressed={presenting}
              aria-label={presenting ? 'Leave the presentation (F or Esc)' : 'Present full screen (F)'}
            >
              {presenting ? 'Leave (Esc)' : 'Present (F)'}
            </button>
          </div>
        </header>
        {image === null || key === null ? (
          <p className="classroom-empty">
            Open an image in Explore first (a sample scene works well): the walkthrough explains the current image.
          </p>
        ) : !ready || numbers === null ? (
          <p className="classroom-empty" role="status">
            {status === 'error' ? 'The walkthrough could not be computed (see the message above).' : 'Computing…'}
          </p>
        ) : (
          <StepView
            step={current}
            data={data}
            numbers={numbers}
            display={display}
            labelName={nameOf(labels.label)}
            contrastName={nameOf(labels.contrast)}
            detectedCount={detectedCount}
          />
        )}
        <nav className="classroom-nav" aria-label="Steps">
          <button type="button" onClick={() => stepBy(-1)} disabled={step === 0}>
            ← Previous
          </button>
          <ol className="step-dots">
            {WALKTHROUGH_STEPS.map((id, index) => (
              <li key={id}>
                <button
                  type="button"
                  aria-current={index === step ? 'step' : undefined}
                  aria-label={`Step ${index + 1}: ${STEP_TITLES[id]}`}
                  onClick={() => setStep(index)}
                >
                  {index + 1}
                </button>
              </li>
            ))}
          </ol>
          <button type="button" onClick={() => stepBy(1)} disabled={step === WALKTHROUGH_STEPS.length - 1}>
            Next →
          </button>
        </nav>
        <p id="classroom-keys" className="classroom-keys">
          Keys: → ← steps · L label · C contrast label · M method · F present full screen · Home / End
        </p>
      </div>
    </section>
  );
}

/**
 * The weighted sum at the brightest cell, written out so a class can check it: the symbols with each map's
 * index, then the numbers (the other maps' share as one number), then the total. Aligned rows rather than
 * `\underbrace`, whose stretchy brace browsers' MathML draws as a tiny mark.
 */
function sumAtPeakTex(
  weightSymbol: string,
  terms: ReadonlyArray<{ channel: number; weight: number; activation: number }>,
  rest: number,
  total: number,
): string {
  const symbol = (channel: number): string => `${weightSymbol.replace('_k', `_{${channel}}`)} A^{${channel}}`;
  const symbols = terms.map((t) => symbol(t.channel)).join(' + ');
  const factor = (value: number): string => (value < 0 ? `(${fmt(value)})` : fmt(value));
  const numbers = terms.map((t) => `${factor(t.weight)} \\cdot ${factor(t.activation)}`).join(' + ');
  const others = `${rest < 0 ? '-' : '+'} ${fmt(Math.abs(rest))}`;
  return `\\begin{aligned} M_{\\max} &= ${symbols} + \\dots \\\\ &= ${numbers} ${others} \\\\ &= ${fmt(total)} \\end{aligned}`;
}

function StepView({
  step,
  data,
  numbers,
  display,
  labelName,
  contrastName,
  detectedCount,
}: {
  step: WalkthroughStep;
  data: WalkthroughData;
  numbers: ReturnType<typeof methodNumbers>;
  display: ImageBitmap | null;
  labelName: string;
  contrastName: string;
  /** The size of Explore's detected set (MinMax's C_x there). */
  detectedCount: number;
}) {
  const [h, w, k] = data.activationShape;
  const shape: [number, number] = [h, w];
  const score = data.scores[0]!;
  const weightSymbol = numbers.method === 'gradcam' ? '\\alpha_k^c' : numbers.method === 'minmax-cam' ? 'w_k^u' : 'w_k^c';
  const relu = numbers.sum.values.map((v) => Math.max(0, v));
  const peak = numbers.sum.values.indexOf(numbers.sum.max);
  const terms = data.topChannels
    .slice(0, 3)
    .map(({ channel, map }) => ({ channel, weight: numbers.weights[channel]!, activation: map.values[peak]! }));
  const rest = numbers.sum.max - terms.reduce((sum, t) => sum + t.weight * t.activation, 0);
  switch (step) {
    case 'input':
      return (
        <div className="classroom-body">
          {display !== null && (
            <MapView
              values={new Float32Array(1).fill(Number.NaN)}
              shape={[1, 1]}
              mode="sequential"
              label="the input image"
              under={display}
            />
          )}
          <div className="classroom-text">
            <p>
              The network reads the image and gives each class a score <i>S</i>. For <b>{labelName}</b>:
            </p>
            <Formula
              tex={`S_c = ${fmt(score.logit)},\\quad p_c = \\sigma(S_c) = ${fmt(score.prob)}`}
              label={`S = ${fmt(score.logit)}, p = ${fmt(score.prob)}`}
            />
            <p>Where in the image does that evidence come from? The next steps find out.</p>
          </div>
        </div>
      );
    case 'features':
      return (
        <div className="classroom-body">
          <div className="thumbs">
            {data.topChannels.map(({ channel, map }) => (
              <figure key={channel}>
                <MapView values={map.values} shape={shape} mode="sequential" size={120} label={`activation map of channel ${channel}`} />
                <figcaption>
                  A<sup>{channel}</sup>
                </figcaption>
              </figure>
            ))}
          </div>
          <div className="classroom-text">
            <Formula
              tex={`A^k \\in \\mathbb{R}^{${h} \\times ${w}},\\quad k = 0, \\dots, ${k - 1}`}
              label={`${k} feature maps of ${h} by ${w}`}
            />
            <p>
              The last convolutional layer gives <b>{k}</b> maps of{' '}
              <b>
                {h}×{w}
              </b>{' '}
              cells. Shown: the {data.topChannels.length} with the largest weights for {labelName}.
            </p>
          </div>
        </div>
      );
    case 'weights':
      return (
        <div className="classroom-body">
          <WeightBars
            weights={numbers.weights}
            highlight={data.topChannels.map((c) => c.channel)}
            label={`the ${k} weights of ${labelName}`}
          />
          <div className="classroom-text">
            <Formula
              tex={
                numbers.method === 'gradcam'
                  ? '\\alpha_k^c = \\frac{1}{hw} \\sum_{i,j} \\frac{\\partial S_c}{\\partial A^k_{ij}}'
                  : numbers.method === 'minmax-cam'
                    ? 'w_k^u = W_{k,u} - W_{k,v}'
                    : 'w_k^c = W_{k,c}'
              }
              label="the weights"
            />
            <p>
              {numbers.method === 'cam'
                ? `The classifier's own weights for ${labelName}: how much each map counts.`
                : numbers.method === 'gradcam'
                  ? 'The mean gradient of the score over each map.'
                  : `The weights of ${labelName} minus those of ${contrastName}.`}
            </p>
            <p>
              Largest:{' '}
              {data.topChannels
                .slice(0, 3)
                .map(({ channel }) => `k = ${channel}: ${fmt(numbers.weights[channel]!)}`)
                .join(' · ')}
            </p>
          </div>
        </div>
      );
    case 'sum':
      return (
        <div className="classroom-body">
          <MapView values={numbers.sum.values} shape={shape} mode="diverging" label="the weighted sum, red positive, blue negative" />
          <div className="classroom-text">
            <Formula tex={`M = \\sum_k ${weightSymbol} A^k`} label="M equals the sum over k of the weight times A k" />
            <p>At the brightest cell:</p>
            <Formula
              tex={sumAtPeakTex(weightSymbol, terms, rest, numbers.sum.max)}
              label={`M max = ${terms.map((t) => `${fmt(t.weight)} times ${fmt(t.activation)} for map ${t.channel}`).join(', plus ')}, plus ${fmt(rest)} from the other maps, = ${fmt(numbers.sum.max)}`}
            />
            <p>
              The other {k - terms.length} maps add {fmt(rest)}. Red: evidence for, blue: against. Range {fmt(numbers.sum.min)} to{' '}
              {fmt(numbers.sum.max)}.
            </p>
          </div>
        </div>
      );
    case 'relu':
      return (
        <div className="classroom-body">
          <MapView values={relu} shape={shape} mode="sequential" label="the map after ReLU" />
          <div className="classroom-text">
            <Formula tex="M_+ = \max(M, 0)" label="M plus is the maximum of M and 0" />
            <p>
              Negative cells (evidence against) become 0: {Array.from(numbers.sum.values).filter((v) => v < 0).length} of {h * w} cells.
            </p>
          </div>
        </div>
      );
    case 'upsample':
      return (
        <div className="classroom-body">
          <MapView values={relu} shape={shape} mode="sequential" smooth label="the map upsampled bilinearly" />
          <div className="classroom-text">
            <Formula tex="\tilde M = \frac{M_+ - \min M_+}{\max M_+ - \min M_+}" label="normalised map" />
            <p>
              Scaled to 0 to 1, then stretched from {h}×{w} cells to the image size by bilinear interpolation.
            </p>
          </div>
        </div>
      );
    case 'overlay':
      return (
        <div className="classroom-body">
          <MapView
            values={relu}
            shape={shape}
            mode="sequential"
            smooth
            under={display}
            label={`the ${numbers.method} heatmap of ${labelName} over the image`}
          />
          <div className="classroom-text">
            <Formula tex="\text{pixel} = (1 - a)\,x + a\,\operatorname{colour}(\tilde M)" label="overlay" />
            <p>
              The heatmap over the image: where the model found <b>{labelName}</b>.
            </p>
          </div>
        </div>
      );
    case 'gradcam':
      return (
        <div className="classroom-body">
          <WeightBars weights={data.weights.gradcam} highlight={data.topChannels.map((c) => c.channel)} label="Grad-CAM weights" />
          <div className="classroom-text">
            <Formula
              tex="\alpha_k^c = \frac{1}{hw} \sum_{i,j} \frac{\partial S_c}{\partial A^k_{ij}}"
              label="alpha equals the mean gradient"
            />
            {data.weights.cam !== null ? (
              <p>
                With global average pooling then one Dense layer, the gradient is{' '}
                <i>
                  W<sub>k,c</sub>
                </i>
                /({h}·{w}) everywhere: Grad-CAM's weights are CAM's divided by {h * w}, so after normalisation the maps are the same.
              </p>
            ) : (
              <p>This model has no GAP → Dense head: gradients are the only weights available.</p>
            )}
          </div>
        </div>
      );
    case 'minmax':
      return data.sums.minmax === null || data.sums.cam === null || data.sums.contrastCam === null ? (
        <p className="classroom-empty">MinMax-CAM needs a second label and a GAP → Dense head.</p>
      ) : (
        <div className="classroom-body">
          <div className="thumbs">
            <figure>
              <MapView
                values={data.sums.cam.values.map((v) => Math.max(0, v))}
                shape={shape}
                mode="sequential"
                size={160}
                smooth
                under={display}
                label={`CAM of ${labelName}`}
              />
              <figcaption>CAM {labelName}</figcaption>
            </figure>
            <figure>
              <MapView
                values={data.sums.contrastCam.values.map((v) => Math.max(0, v))}
                shape={shape}
                mode="sequential"
                size={160}
                smooth
                under={display}
                label={`CAM of ${contrastName}`}
              />
              <figcaption>CAM {contrastName}</figcaption>
            </figure>
            <figure>
              <MapView
                values={data.sums.minmax.values.map((v) => Math.max(0, v))}
                shape={shape}
                mode="sequential"
                size={160}
                smooth
                under={display}
                label={`MinMax-CAM of ${labelName}`}
              />
              <figcaption>MinMax-CAM {labelName}</figcaption>
            </figure>
          </div>
          <div className="classroom-text">
            <Formula tex="w_k^u = W_{k,u} - \frac{1}{|C_x| - 1} \sum_{n \in C_x \setminus \{u\}} W_{k,n}" label="MinMax weights" />
            <p>
              With{' '}
              <i>
                C<sub>x</sub>
              </i>{' '}
              = {'{'}
              {labelName}, {contrastName}
              {'}'}: what both labels share cancels out, what is only {labelName}'s stays.
            </p>
            {detectedCount > 2 && (
              <p className="small" data-testid="classroom-contrast-note">
                Here the contrast is one label, so that every number stays readable; Explore&apos;s MinMax-CAM contrasts with all{' '}
                {detectedCount} labels of the detected set, so its map can differ (press C for another contrast label).
              </p>
            )}
          </div>
        </div>
      );
  }
}
