import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  children: ReactNode;
}

interface State {
  error: Error | null;
}

/** Never a blank page: a render error shows what happened and a reload button. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('CAM Studio crashed while rendering', error, info.componentStack);
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <main className="crash" role="alert" data-testid="crash">
        <h1>CAM Studio hit an unexpected error</h1>
        <p>The page could not be drawn. Reloading usually helps; the model is fetched again from the cache.</p>
        <pre className="crash-message">{`${error.name}: ${error.message}`}</pre>
        <div className="row">
          <button type="button" className="button primary" onClick={() => window.location.reload()}>
            Reload the page
          </button>
          <button type="button" className="button" onClick={() => this.setState({ error: null })}>
            Try to continue
          </button>
        </div>
      </main>
    );
  }
}
