import { useRef, useState, type ChangeEvent } from 'react';
import { aggregateEvaluations, reportCsv } from '../shared/metrics/report';
import { batchRate, pairFolderFiles } from '../state/batch';
import { methodTitle } from '../shared/methods';
import { ExportableChart, MetricsBarChart } from '../charts/MetricsCharts';
import { METRICS, reportTable } from '../charts/metrics-table';
import { useStudio } from '../state/react';
import { downloadBlob } from './download';

const download = (text: string, type: string, name: string): void => downloadBlob(new Blob([text], { type }), name);

/**
 * Folder evaluation: drop or choose a folder of images (with VOC masks beside them, optionally), evaluate the
 * chosen methods on every image in the worker, and read the seed's Table-2 report (metrics x methods, per-class
 * then macro averages, best per row), with pause, cancel (partial results kept) and CSV / JSON export.
 */
export function BatchPanel() {
  const status = useStudio((s) => s.batchStatus);
  const files = useStudio((s) => s.batchFiles);
  const records = useStudio((s) => s.batchRecords);
  const failures = useStudio((s) => s.batchFailures);
  const methods = useStudio((s) => s.batchMethods);
  const next = useStudio((s) => s.batchNext);
  const elapsedMs = useStudio((s) => s.batchElapsedMs);
  const model = useStudio((s) => s.model);
  const start = useStudio((s) => s.startBatch);
  const pause = useStudio((s) => s.pauseBatch);
  const resume = useStudio((s) => s.resumeBatch);
  const cancel = useStudio((s) => s.cancelBatch);
  const interrupted = useStudio((s) => s.interruptedBatch);
  const resumeInterrupted = useStudio((s) => s.resumeInterruptedBatch);
  const discardInterrupted = useStudio((s) => s.discardInterruptedBatch);
  const reportError = useStudio((s) => s.reportError);
  const detection = useStudio((s) => s.detection);
  const folderName = files[0]?.name.includes('/') ? files[0].name.split('/')[0] : null;
  const [classMetric, setClassMetric] = useState<string>('ar');
  const folderRef = useRef<HTMLInputElement | null>(null);
  const filesRef = useRef<HTMLInputElement | null>(null);

  const onPick = (event: ChangeEvent<HTMLInputElement>): void => {
    const input = event.target;
    const picked = Array.from(input.files ?? []).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
    input.value = '';
    const { images } = pairFolderFiles(picked);
    if (images.length === 0) {
      reportError(new Error('That folder holds no images (PNG, JPEG, WebP, GIF, BMP, AVIF).'), 'Evaluating a folder');
      return;
    }
    void start(images);
  };

  const numClasses = model?.numClasses ?? 0;
  const report = records.length > 0 && numClasses > 0 ? aggregateEvaluations(records, methods, numClasses, 0.25) : null;
  const { rate, secondsLeft } = batchRate(next, files.length, elapsedMs);
  const busy = status === 'running' || status === 'paused';
  const percentMetrics = METRICS.filter((metric) => metric.percent);
  const titleOf = (id: string): string => methodTitle(id, model?.methods ?? null);

  return (
    <section className="batch panel" data-testid="batch" data-state={status} aria-labelledby="batch-title">
      <div className="results-head">
        <h2 id="batch-title">Evaluate a folder</h2>
        <div className="row">
          <button
            type="button"
            className="button"
            data-testid="batch-choose-folder"
            disabled={busy || model === null}
            onClick={() => folderRef.current?.click()}
          >
            Choose a folder…
          </button>
          <button
            type="button"
            className="button"
            data-testid="batch-choose-files"
            disabled={busy || model === null}
            onClick={() => filesRef.current?.click()}
          >
            Choose images…
          </button>
        </div>
      </div>
      <input
        ref={(el) => {
          folderRef.current = el;
          if (el) {
            el.setAttribute('webkitdirectory', '');
            el.setAttribute('directory', '');
          }
        }}
        className="visually-hidden"
        type="file"
        multiple
        tabIndex={-1}
        aria-label="Folder of images to evaluate"
        data-testid="batch-folder-input"
        onChange={onPick}
      />
      <input
        ref={filesRef}
        className="visually-hidden"
        type="file"
        multiple
        accept="image/*"
        tabIndex={-1}
        aria-label="Images to evaluate"
        data-testid="batch-files-input"
        onChange={onPick}
      />
      <p className="hint">
        Every image is explained (its detected set) with the methods chosen in Display and scored in the worker. VOC-style masks (palette
        PNGs) named <code>x.mask.png</code> beside <code>x.jpg</code>, or <code>x.png</code> in a <code>SegmentationClass/</code> or{' '}
        <code>masks/</code> folder, add the pointing game and mIoU; a labels file (<code>x.labels.json</code> or <code>x.txt</code>: class
        names or indices) makes those labels the image's detected set. Nothing leaves this computer.
      </p>
      {interrupted !== null && (
        <div className="batch-interrupted" role="status" data-testid="batch-interrupted">
          <span>
            An unfinished folder evaluation was found ({interrupted.done + interrupted.failures} of {interrupted.total} images done with{' '}
            {interrupted.modelName}, saved {new Date(interrupted.savedAt).toLocaleString()}). It is kept in this browser only.
          </span>
          <span className="row">
            <button
              type="button"
              className="button"
              data-testid="batch-interrupted-resume"
              disabled={model === null}
              onClick={() => void resumeInterrupted()}
            >
              Resume it
            </button>
            <button type="button" className="button" data-testid="batch-interrupted-discard" onClick={() => void discardInterrupted()}>
              Discard
            </button>
          </span>
        </div>
      )}
      {files.length > 0 && (
        <div className="batch-progress" aria-live="polite">
          <progress max={files.length} value={next} data-testid="batch-progress" aria-label="Images evaluated" />
          <span data-testid="batch-count">
            {next} / {files.length} images{rate !== null ? ` · ${rate.toFixed(2)} images/s` : ''}
            {busy && secondsLeft !== null ? ` · about ${Math.ceil(secondsLeft)} s left` : ''}
            {status === 'paused'
              ? ' · paused'
              : status === 'cancelled'
                ? ' · cancelled (results so far kept)'
                : status === 'done'
                  ? ' · done'
                  : ''}
          </span>
          <span className="row">
            {status === 'running' && (
              <button type="button" className="button" data-testid="batch-pause" onClick={pause}>
                Pause
              </button>
            )}
            {status === 'paused' && (
              <button type="button" className="button" data-testid="batch-resume" onClick={() => void resume()}>
                Resume
              </button>
            )}
            {busy && (
              <button type="button" className="button" data-testid="batch-cancel" onClick={() => void cancel()}>
                Cancel
              </button>
            )}
          </span>
        </div>
      )}
      {failures.length > 0 && (
        <details className="hint" data-testid="batch-failures">
          <summary>{failures.length} image(s) could not be evaluated</summary>
          <ul>
            {failures.map((failure) => (
              <li key={failure.name}>
                {failure.name}: {failure.message}
              </li>
            ))}
          </ul>
        </details>
      )}
      {report && (
        <>
          <div className="table-scroll">
            <table className="metrics-table" data-testid="batch-report">
              <caption>
                {report.images} images · {report.detections} detections · per class, then the macro average over classes (support:
                detections)
              </caption>
              <thead>
                <tr>
                  <th scope="col">metric</th>
                  {methods.map((method) => (
                    <th scope="col" key={method}>
                      {titleOf(method)}
                    </th>
                  ))}
                  <th scope="col">support</th>
                </tr>
              </thead>
              <tbody>
                {percentMetrics.map((metric) => {
                  const id = metric.id as keyof (typeof report.faithfulness)[string];
                  const values = methods.map((method) => report.faithfulness[method]?.[id].macro ?? null);
                  const shown = values.filter((value): value is number => value !== null).map((value) => Number(value.toFixed(1)));
                  const best = shown.length < 2 ? null : metric.higherIsBetter ? Math.max(...shown) : Math.min(...shown);
                  const support = report.faithfulness[methods[0] ?? '']?.[id].support.reduce((a, b) => a + b, 0) ?? 0;
                  return (
                    <tr key={metric.id} data-metric={metric.id}>
                      <th scope="row" title={metric.description}>
                        {metric.name} {metric.higherIsBetter ? '↑' : '↓'}
                      </th>
                      {values.map((value, i) => (
                        <td key={methods[i]} className={value !== null && Number(value.toFixed(1)) === best ? 'best' : undefined}>
                          {value === null ? '–' : value.toFixed(1)}
                        </td>
                      ))}
                      <td>{support}</td>
                    </tr>
                  );
                })}
                {report.localisation && (
                  <>
                    <tr data-metric="pointing">
                      <th scope="row">Pointing game ↑</th>
                      {methods.map((method) => (
                        <td key={method}>{report.localisation?.[method]?.pointing.macro?.toFixed(1) ?? '–'}</td>
                      ))}
                      <td />
                    </tr>
                    <tr data-metric="miou">
                      <th scope="row">mIoU ↑</th>
                      {methods.map((method) => (
                        <td key={method}>{report.localisation?.[method]?.segmentation.meanIou?.toFixed(1) ?? '–'}</td>
                      ))}
                      <td />
                    </tr>
                  </>
                )}
              </tbody>
            </table>
          </div>
          <ExportableChart name="batch-bars" title="Macro averages by method" onSave={downloadBlob}>
            <MetricsBarChart table={reportTable(report, methods)} methods={methods.map((id) => ({ id, title: titleOf(id) }))} />
          </ExportableChart>
          <details className="per-class" data-testid="batch-per-class">
            <summary>Per class</summary>
            <label className="field">
              <span className="field-label">Metric</span>
              <select value={classMetric} onChange={(event) => setClassMetric(event.target.value)} data-testid="batch-class-metric">
                {percentMetrics.map((metric) => (
                  <option key={metric.id} value={metric.id}>
                    {metric.name}
                  </option>
                ))}
              </select>
            </label>
            <div className="table-scroll">
              <table className="metrics-table" data-testid="batch-per-class-table">
                <thead>
                  <tr>
                    <th scope="col">class</th>
                    {methods.map((method) => (
                      <th scope="col" key={method}>
                        {titleOf(method)}
                      </th>
                    ))}
                    <th scope="col">support</th>
                  </tr>
                </thead>
                <tbody>
                  {Array.from({ length: numClasses }, (_, k) => k)
                    .filter((k) => (report.faithfulness[methods[0] ?? '']?.[classMetric as 'ar'].support[k] ?? 0) > 0)
                    .map((k) => (
                      <tr key={k}>
                        <th scope="row">{model?.labelNames[k] ?? `class ${k}`}</th>
                        {methods.map((method) => {
                          const value = report.faithfulness[method]?.[classMetric as 'ar'].perClass[k] ?? null;
                          return <td key={method}>{value === null ? '–' : value.toFixed(1)}</td>;
                        })}
                        <td>{report.faithfulness[methods[0] ?? '']?.[classMetric as 'ar'].support[k]}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          </details>
          <div className="row">
            <button
              type="button"
              className="button"
              data-testid="batch-export-csv"
              onClick={() => download(reportCsv(report, methods), 'text/csv', 'report.csv')}
            >
              Export CSV
            </button>
            <button
              type="button"
              className="button"
              data-testid="batch-export-json"
              onClick={() =>
                download(
                  `${JSON.stringify({
                    // The layout of `npm run evaluate`'s report.json (plus the images that failed).
                    version: 1,
                    model: { dir: model?.source ?? null, name: model?.name ?? null, numClasses, labelNames: model?.labelNames ?? [] },
                    settings: {
                      methods,
                      detection: detection ?? 'default of the head',
                      batchSize: 16,
                      backgroundThreshold: 0.25,
                      curveSteps: 0,
                      images: folderName,
                      masks: files.some((file) => file.mask !== null) ? 'paired by name' : null,
                    },
                    images: records,
                    report,
                    failures,
                  })}\n`,
                  'application/json',
                  'report.json',
                )
              }
            >
              Export JSON
            </button>
          </div>
        </>
      )}
    </section>
  );
}
