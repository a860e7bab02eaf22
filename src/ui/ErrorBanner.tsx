import { useStudio } from '../state/react';

/** The last error, visible until dismissed. */
export function ErrorBanner() {
  const error = useStudio((s) => s.lastError);
  const dismiss = useStudio((s) => s.dismissError);
  const notices = useStudio((s) => s.notices);
  return (
    <>
      {error && (
        <div className="banner error" role="alert" data-testid="error-banner" data-code={error.code}>
          <div className="banner-text">
            {error.context && <strong className="banner-context">{error.context} failed. </strong>}
            <span className="banner-message" data-testid="error-message">
              {error.message}
            </span>
          </div>
          <button type="button" className="button small" onClick={dismiss} aria-label="Dismiss error">
            Dismiss
          </button>
        </div>
      )}
      {notices.map((notice) => (
        <div key={notice} className="banner notice" role="status">
          {notice}
        </div>
      ))}
    </>
  );
}
