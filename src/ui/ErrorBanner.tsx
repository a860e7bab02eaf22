import { useStudio } from '../state/react';

/** The last error and the notices, floating at the bottom of the viewport until dismissed. */
export function ErrorBanner() {
  const error = useStudio((s) => s.lastError);
  const dismiss = useStudio((s) => s.dismissError);
  const notices = useStudio((s) => s.notices);
  const dismissNotice = useStudio((s) => s.dismissNotice);
  if (!error && notices.length === 0) return null;
  return (
    <div className="banners">
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
          <div className="banner-text">{notice}</div>
          <button type="button" className="button small" onClick={() => dismissNotice(notice)} aria-label="Dismiss notice">
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}
