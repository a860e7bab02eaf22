import { useState, type KeyboardEvent } from 'react';
import { settingsOf, settingsToSearch } from '../state/settings';
import { useStudioStore } from '../state/react';
import { STUDIO_MODES, type StudioMode } from '../state/constants';
import { useStudio } from '../state/react';

const MODE_TITLES: Record<StudioMode, { title: string; description: string }> = {
  explore: { title: 'Explore', description: 'Drop images, see what the model sees, label by label; metrics and folders.' },
  classroom: { title: 'Classroom', description: 'How a CAM is made, step by step, large and keyboard-driven, for a projector.' },
  figure: { title: 'Figures', description: 'Publication grids of images x methods or labels, exported as PNG or SVG.' },
};

/** The studio's modes, one per use, on the first screen (arrow keys move between them, as in any tab list). */
export function ModeTabs() {
  const mode = useStudio((s) => s.mode);
  const setMode = useStudio((s) => s.setMode);
  const store = useStudioStore();
  const [shared, setShared] = useState<string | null>(null);
  const [copied, setCopied] = useState<'copied' | 'select' | null>(null);
  const copy = async (link: string): Promise<void> => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied('copied');
    } catch {
      setCopied('select'); // no clipboard permission: the link is selected, to copy by hand
    }
  };
  const share = async (): Promise<void> => {
    const state = store.getState();
    const base = document.baseURI.split(/[?#]/)[0]!;
    const link = `${base}${settingsToSearch(settingsOf(state, base), state.requestedBackend)}`;
    setShared(link);
    await copy(link);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLButtonElement>): void => {
    const index = STUDIO_MODES.indexOf(mode);
    const next = event.key === 'ArrowRight' ? index + 1 : event.key === 'ArrowLeft' ? index - 1 : null;
    if (next === null) return;
    event.preventDefault();
    const target = STUDIO_MODES[(next + STUDIO_MODES.length) % STUDIO_MODES.length]!;
    setMode(target);
    document.getElementById(`mode-tab-${target}`)?.focus();
  };
  return (
    <div className="mode-tabs">
      <div className="mode-tablist" role="tablist" aria-label="Studio modes">
        {STUDIO_MODES.map((id) => (
          <button
            key={id}
            id={`mode-tab-${id}`}
            type="button"
            role="tab"
            aria-selected={mode === id}
            aria-controls={`mode-panel-${id}`}
            tabIndex={mode === id ? 0 : -1}
            title={MODE_TITLES[id].description}
            onClick={() => setMode(id)}
            onKeyDown={onKeyDown}
            data-testid={`mode-${id}`}
          >
            {MODE_TITLES[id].title}
          </button>
        ))}
      </div>
      <span className="share">
        <button
          type="button"
          className="button small"
          onClick={() => void share()}
          data-testid="share-settings"
          title="A link that opens the studio with this model, mode, methods and look (never your images)"
        >
          Share settings
        </button>
        {shared !== null && (
          <span className="share-box">
            <input
              className="share-link"
              readOnly
              value={shared}
              aria-label="Link to these settings (copied to the clipboard when allowed)"
              onFocus={(e) => e.target.select()}
              data-testid="share-link"
            />
            <button type="button" className="button small" onClick={() => void copy(shared)} data-testid="share-copy">
              Copy
            </button>
            <span className="small muted" role="status" data-testid="share-copied">
              {copied === 'copied' ? 'Copied ✓' : copied === 'select' ? 'Select and copy (no clipboard access)' : ''}
            </span>
            <button type="button" className="button small" aria-label="Close the link" onClick={() => setShared(null)}>
              ×
            </button>
          </span>
        )}
      </span>
    </div>
  );
}
