import { useEffect, useRef } from 'react';
import { formatNumber, WeightBars } from '../charts/WeightBars';
import { useStudio } from '../state/react';
import { MapView } from './MapView';

const positive = (values: Float32Array): Float32Array => values.map((v) => Math.max(0, v));
const normalized = (values: Float32Array): Float32Array => {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return values.map((v) => (max > min ? (v - min) / (max - min) : 0));
};

/**
 * The feature-map inspector: for one label, the channels with the largest weights w_k^c (thumbnails of
 * their activation maps; click one to see it over the image), every weight as a bar (CAM's, and MinMax's
 * against another detected label), and CAM next to MinMax-CAM with their difference.
 */
export function InspectorPanel() {
  const result = useStudio((s) => s.result);
  const labelNames = useStudio((s) => s.model?.labelNames);
  const label = useStudio((s) => s.inspectorLabel);
  const data = useStudio((s) => s.inspectorData);
  const status = useStudio((s) => s.inspectorStatus);
  const channel = useStudio((s) => s.inspectorChannel);
  const display = useStudio((s) => s.image?.display ?? null);
  const inspect = useStudio((s) => s.inspect);
  const select = useStudio((s) => s.selectInspectorChannel);
  const jobId = result?.jobId ?? null;

  // A new result (image, model or labels changed): inspect the same label again, if it is still offered.
  const labelRef = useRef(label);
  labelRef.current = label;
  const predictionsRef = useRef(result?.predictions ?? []);
  predictionsRef.current = result?.predictions ?? [];
  useEffect(() => {
    const current = labelRef.current;
    if (current === null || jobId === null) return;
    void inspect(predictionsRef.current.some((p) => p.label === current) ? current : null);
  }, [jobId, inspect]);

  if (result === null) return null;
  const nameOf = (l: number): string => result.predictions.find((p) => p.label === l)?.name ?? labelNames?.[l] ?? `class ${l}`;
  const shown = data !== null && data.label === label ? data : null;
  const [h, w] = shown?.activationShape ?? [0, 0];
  const selected = shown?.topChannels.find((c) => c.channel === channel) ?? shown?.topChannels[0] ?? null;
  const contrast = shown?.contrastLabel ?? null;
  const camMap = shown?.sums.cam ? normalized(positive(shown.sums.cam.values)) : null;
  const minmaxMap = shown?.sums.minmax ? normalized(positive(shown.sums.minmax.values)) : null;

  return (
    <section className="panel inspector" aria-labelledby="inspector-title" data-testid="inspector" data-state={status}>
      <div className="results-head">
        <h2 id="inspector-title">Feature maps</h2>
        <label>
          Label{' '}
          <select
            value={label ?? ''}
            onChange={(e) => void inspect(e.target.value === '' ? null : Number(e.target.value))}
            data-testid="inspector-label"
          >
            <option value="">choose a label…</option>
            {result.predictions.map((p) => (
              <option key={p.label} value={p.label}>
                {p.name} ({(p.prob * 100).toFixed(1)}%)
              </option>
            ))}
          </select>
        </label>
      </div>
      {status === 'busy' && <p role="status">Reading the feature maps…</p>}
      {shown !== null && selected !== null && (
        <>
          <div className="inspector-grid">
            <figure>
              <MapView
                values={selected.map.values}
                shape={[h, w]}
                mode="sequential"
                smooth
                under={display}
                size={240}
                label={`activation map of channel ${selected.channel} over the image`}
              />
              <figcaption>
                A<sup>{selected.channel}</sup> over the image; w<sub>{selected.channel}</sub> ={' '}
                {formatNumber((shown.weights.cam ?? shown.weights.gradcam)[selected.channel]!)}
              </figcaption>
            </figure>
            <div>
              <p className="hint">
                The {shown.topChannels.length} channels of largest |w<sub>k</sub>| for {nameOf(shown.label)} (of {shown.activationShape[2]}
                ); click one.
              </p>
              <div className="inspector-thumbs" role="group" aria-label="Channels">
                {shown.topChannels.map((c) => (
                  <button
                    key={c.channel}
                    type="button"
                    className="thumb"
                    aria-pressed={c.channel === selected.channel}
                    onClick={() => select(c.channel)}
                    data-channel={c.channel}
                  >
                    <MapView values={c.map.values} shape={[h, w]} mode="sequential" size={64} label={`channel ${c.channel}`} />
                    <span>k = {c.channel}</span>
                  </button>
                ))}
              </div>
            </div>
          </div>
          <h3>
            Weights w<sub>k</sub> of {nameOf(shown.label)}
            {shown.weights.cam === null ? ' (Grad-CAM: this head is not GAP → Dense)' : ''}
          </h3>
          <WeightBars
            weights={shown.weights.cam ?? shown.weights.gradcam}
            highlight={[selected.channel]}
            label={`the ${shown.activationShape[2]} weights of ${nameOf(shown.label)}`}
            onPick={(k) => {
              if (shown.topChannels.some((c) => c.channel === k)) select(k);
            }}
          />
          {shown.weights.minmax !== null && camMap !== null && minmaxMap !== null && contrast !== null ? (
            <>
              <h3>
                MinMax against {nameOf(contrast)}: w<sub>k</sub>
                <sup>u</sup> = W<sub>k,u</sub> − W<sub>k,v</sub>
              </h3>
              <WeightBars
                weights={shown.weights.minmax}
                highlight={[selected.channel]}
                label={`MinMax weights of ${nameOf(shown.label)} against ${nameOf(contrast)}`}
              />
              <div className="inspector-compare" data-testid="inspector-compare">
                <figure>
                  <MapView
                    values={camMap}
                    shape={[h, w]}
                    mode="sequential"
                    smooth
                    under={display}
                    size={180}
                    label={`CAM of ${nameOf(shown.label)}`}
                  />
                  <figcaption>CAM</figcaption>
                </figure>
                <figure>
                  <MapView
                    values={minmaxMap}
                    shape={[h, w]}
                    mode="sequential"
                    smooth
                    under={display}
                    size={180}
                    label={`MinMax-CAM of ${nameOf(shown.label)}`}
                  />
                  <figcaption>MinMax-CAM</figcaption>
                </figure>
                <figure>
                  <MapView
                    values={camMap.map((v, i) => v - minmaxMap[i]!)}
                    shape={[h, w]}
                    mode="diverging"
                    smooth
                    size={180}
                    label="CAM minus MinMax-CAM: red where MinMax removed evidence"
                  />
                  <figcaption>CAM − MinMax-CAM (red: removed)</figcaption>
                </figure>
              </div>
            </>
          ) : (
            <p className="hint">MinMax needs a second detected label (and a GAP → Dense head).</p>
          )}
        </>
      )}
    </section>
  );
}
