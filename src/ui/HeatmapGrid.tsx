import { useStudio } from '../state/react';
import type { HeatmapResult, MethodId } from '../worker/protocol';
import { HeatmapCanvas } from './HeatmapCanvas';

const FALLBACK_TITLES: Partial<Record<MethodId, string>> = { cam: 'CAM', gradcam: 'Grad-CAM' };

function rangeText(map: HeatmapResult): string {
  const fmt = (v: number): string => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(3) : v.toFixed(4));
  const extras = Object.entries(map.extras ?? {}).map(([k, v]) => `${k} ${fmt(v)}`);
  return [
    `raw range ${fmt(map.rawMin)} .. ${fmt(map.rawMax)} (after ReLU, before normalisation)`,
    `${map.resolution === 'input' ? 'input' : 'feature'} resolution ${map.shape[0]} × ${map.shape[1]}`,
    ...extras,
  ].join('\n');
}

/** One row per explained label, one card per method, side by side. */
export function HeatmapGrid() {
  const result = useStudio((s) => s.result);
  const image = useStudio((s) => s.image);
  const colormap = useStudio((s) => s.colormap);
  const opacity = useStudio((s) => s.opacity);
  const methodInfo = useStudio((s) => s.model?.methods ?? null);
  if (!result || !image) return null;
  if (result.maps.length === 0) {
    return <p className="muted">No heatmaps: tick a prediction and at least one method.</p>;
  }
  const names = new Map(result.predictions.map((p) => [p.label, p.name]));
  const titleOf = (id: MethodId): string => methodInfo?.find((m) => m.id === id)?.title ?? FALLBACK_TITLES[id] ?? id;
  const labels = result.labels.filter((l) => result.maps.some((m) => m.label === l));
  return (
    <div className="heatmap-grid">
      {labels.map((label) => {
        const name = names.get(label) ?? `class ${label}`;
        const maps = result.maps.filter((m) => m.label === label);
        const prediction = result.predictions.find((p) => p.label === label);
        return (
          <section key={label} className="heatmap-row" aria-label={`Explanations for ${name}`}>
            <h3>
              {name} <span className="muted">#{label}{prediction ? ` · ${(prediction.prob * 100).toFixed(1)}%` : ''}</span>
            </h3>
            <div className="cards">
              {maps.map((map) => (
                <figure key={`${map.method}-${map.label}`} className="card" title={rangeText(map)}>
                  <HeatmapCanvas map={map} image={image.display} colormap={colormap} opacity={opacity} label={name} methodTitle={titleOf(map.method)} />
                  <figcaption>
                    <strong>{titleOf(map.method)}</strong> · {name}
                    <span className="muted small range">
                      {' '}
                      raw {map.rawMin.toPrecision(3)}..{map.rawMax.toPrecision(3)}
                    </span>
                  </figcaption>
                </figure>
              ))}
            </div>
          </section>
        );
      })}
    </div>
  );
}
