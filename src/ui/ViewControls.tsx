import { useId, type ChangeEvent } from 'react';
import { ColorBar } from '../charts/ColorBar';
import { COLORMAP_IDS, COLORMAP_TITLES, isColormapId } from '../shared/colormap';
import { useStudio } from '../state/react';
import { MethodPicker } from './MethodPicker';

const TOP_K_CHOICES = [1, 3, 5, 10, 20];

/** Methods, colour map, opacity, top-k. */
export function ViewControls() {
  const colormap = useStudio((s) => s.colormap);
  const setColormap = useStudio((s) => s.setColormap);
  const opacity = useStudio((s) => s.opacity);
  const setOpacity = useStudio((s) => s.setOpacity);
  const topK = useStudio((s) => s.topK);
  const setTopK = useStudio((s) => s.setTopK);
  const cmapId = useId();
  const opacityId = useId();
  const topKId = useId();
  const onColormap = (event: ChangeEvent<HTMLSelectElement>): void => {
    if (isColormapId(event.target.value)) setColormap(event.target.value);
  };
  return (
    <section className="panel" aria-labelledby="view-title">
      <h2 id="view-title">Display</h2>
      <MethodPicker />
      <label className="field" htmlFor={topKId}>
        <span className="field-label">Predictions shown</span>
        <select id={topKId} data-testid="topk-select" value={topK} onChange={(e) => void setTopK(Number(e.target.value))}>
          {(TOP_K_CHOICES.includes(topK) ? TOP_K_CHOICES : [...TOP_K_CHOICES, topK].sort((a, b) => a - b)).map((k) => (
            <option key={k} value={k}>
              top {k}
            </option>
          ))}
        </select>
      </label>
      <label className="field" htmlFor={cmapId}>
        <span className="field-label">Colour map</span>
        <select id={cmapId} data-testid="colormap-select" value={colormap} onChange={onColormap}>
          {COLORMAP_IDS.map((id) => (
            <option key={id} value={id}>
              {COLORMAP_TITLES[id]}
            </option>
          ))}
        </select>
      </label>
      <label className="field" htmlFor={opacityId}>
        <span className="field-label">
          Heatmap opacity <output htmlFor={opacityId}>{Math.round(opacity * 100)}%</output>
        </span>
        <input
          id={opacityId}
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={opacity}
          data-testid="opacity-slider"
          onChange={(e) => setOpacity(Number(e.target.value))}
        />
      </label>
      <ColorBar colormap={colormap} />
    </section>
  );
}
