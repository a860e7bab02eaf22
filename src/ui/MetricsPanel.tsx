import { useTimeLeft } from './useTimeLeft';
import { downloadBlob } from './download';
import { CurvesChart, ExportableChart, MetricsBarChart, type CurveSet } from '../charts/MetricsCharts';
import { methodTitle } from '../shared/methods';
import { metricsTable } from '../charts/metrics-table';
import { useStudio } from '../state/react';
import { metricsStale } from '../state/selectors';

const format = (value: number | null, percent: boolean): string => (value === null ? '–' : percent ? value.toFixed(1) : value.toFixed(3));

/**
 * Faithfulness metrics of the current image (specification: ../shared/docs/methods-and-metrics.md): for the
 * chosen methods and the detected set, computed on demand in the worker (masked forward passes), as a
 * metrics x methods table with the best of each row marked. Charts and the folder view are issue #5's rest.
 */
export function MetricsPanel() {
  const status = useStudio((s) => s.metricsStatus);
  const metrics = useStudio((s) => s.metrics);
  const progress = useStudio((s) => s.metricsProgress);
  const timeLeft = useTimeLeft(progress ? 'metrics' : null, progress?.done ?? 0, progress?.total ?? 0);
  const stale = useStudio((s) => metricsStale(s));
  const canCompute = useStudio((s) => s.model !== null && s.image !== null && s.methods.length > 0);
  const compute = useStudio((s) => s.computeMetrics);
  const cancel = useStudio((s) => s.cancelMetrics);
  const metricsFor = useStudio((s) => s.metricsFor);
  const methodInfo = useStudio((s) => s.model?.methods ?? null);
  const labelNames = useStudio((s) => s.model?.labelNames ?? null);
  const labelName = (label: number): string => labelNames?.[label] ?? `class ${label}`;
  const setHighlighted = useStudio((s) => s.setHighlightedMethod);
  const table = metrics === null ? null : metricsTable(metrics, metricsFor?.methods ?? []);
  const styles = (table?.methods ?? []).map((id) => ({ id, title: methodTitle(id, methodInfo) }));
  const curveSets: CurveSet[] =
    metrics === null || table === null
      ? []
      : table.detected
          .map((label) => ({
            label,
            name: labelName(label),
            byMethod: table.methods.flatMap((method) => {
              const curve = metrics.evaluation.curves?.[method]?.[String(label)];
              return curve === undefined
                ? []
                : [{ method, fractions: curve.fractions, deletion: curve.deletion, insertion: curve.insertion }];
            }),
          }))
          .filter((set) => set.byMethod.length > 0);
  return (
    <section
      className="metrics panel"
      data-testid="metrics"
      data-state={status}
      aria-labelledby="metrics-title"
      aria-busy={status === 'busy'}
    >
      <div className="results-head">
        <h2 id="metrics-title">Faithfulness metrics</h2>
        <div className="row">
          {status === 'busy' ? (
            <>
              <span data-testid="metrics-progress" aria-live="polite">
                <span className="spinner" aria-hidden="true" /> Scoring maps{progress ? ` ${progress.done}/${progress.total}` : '…'}
                {timeLeft !== null && <span className="muted"> · {timeLeft}</span>}
              </span>
              <button type="button" className="button" data-testid="metrics-cancel" onClick={() => void cancel()}>
                Cancel
              </button>
            </>
          ) : (
            <button
              type="button"
              className="button primary"
              data-testid="metrics-compute"
              disabled={!canCompute}
              onClick={() => void compute()}
            >
              {metrics === null ? 'Compute for this image' : 'Compute again'}
            </button>
          )}
        </div>
      </div>
      <p className="hint">
        Each detected label's map is kept (O) or removed (Ō) from the input and the model is run again; deletion and insertion curves remove
        or add pixels in the map's order. Arrows say which direction is better; the best method of each row is in bold. ADO, ARO and F1 need
        two or more detected labels.
      </p>
      {stale && (
        <p className="hint" data-testid="metrics-stale">
          These numbers are for a previous image or model: compute again.
        </p>
      )}
      {table && (
        <div className="table-scroll">
          <table className="metrics-table" data-testid="metrics-table">
            <caption>
              {metrics?.detectionRule}: {table.detected.map(labelName).join(', ') || 'no label detected'} · {metrics?.backend}
            </caption>
            <thead>
              <tr>
                <th scope="col">metric</th>
                {table.methods.map((method) => (
                  <th scope="col" key={method}>
                    {methodTitle(method, methodInfo)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {table.rows.map(({ metric, cells }) => (
                <tr key={metric.id} data-metric={metric.id}>
                  <th scope="row" title={metric.description}>
                    {metric.name}{' '}
                    <span aria-label={metric.higherIsBetter ? 'higher is better' : 'lower is better'}>
                      {metric.higherIsBetter ? '↑' : '↓'}
                    </span>
                  </th>
                  {cells.map((cell, i) => (
                    <td
                      key={table.methods[i]}
                      className={cell.best ? 'best' : undefined}
                      title={cell.perLabel.map((entry) => `${labelName(entry.label)}: ${format(entry.value, metric.percent)}`).join('\n')}
                    >
                      {format(cell.value, metric.percent)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {table && (
        <div className="charts">
          <ExportableChart
            name="metrics-bars"
            title="Metrics by method (hover a bar to highlight that method's heatmaps)"
            onSave={downloadBlob}
          >
            <MetricsBarChart table={table} methods={styles} onHover={setHighlighted} />
          </ExportableChart>
          {curveSets.length > 0 && (
            <ExportableChart name="metrics-curves" title="Deletion and insertion curves, per label" onSave={downloadBlob}>
              <CurvesChart sets={curveSets} methods={styles} />
            </ExportableChart>
          )}
        </div>
      )}
    </section>
  );
}
