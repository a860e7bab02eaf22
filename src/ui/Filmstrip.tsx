import { useEffect, useMemo, useRef, type KeyboardEvent } from 'react';
import { useStudio } from '../state/react';

const STATUS_TEXT = { waiting: 'waiting', running: 'explaining…', done: 'ready', error: 'failed' } as const;

/**
 * The exploration queue as a filmstrip: every dropped image, explained in the background in order, with its
 * top prediction; click (or ← / → on the strip) to switch, instantly for images already explained.
 */
export function Filmstrip() {
  const queue = useStudio((s) => s.queue);
  const current = useStudio((s) => s.queueCurrent);
  const next = useStudio((s) => s.queueNext);
  const select = useStudio((s) => s.selectQueued);
  const remove = useStudio((s) => s.removeQueued);
  const urls = useRef(new Map<number, { blob: Blob; url: string }>());

  // One object URL per queued image, revoked when it leaves the queue (or the strip unmounts).
  const thumbnails = useMemo(() => {
    const map = urls.current;
    for (const item of queue) if (!map.has(item.id)) map.set(item.id, { blob: item.blob, url: URL.createObjectURL(item.blob) });
    for (const [id, entry] of map) {
      if (!queue.some((item) => item.id === id)) {
        URL.revokeObjectURL(entry.url);
        map.delete(id);
      }
    }
    return new Map([...map].map(([id, entry]) => [id, entry.url]));
  }, [queue]);
  useEffect(
    () => () => {
      for (const entry of urls.current.values()) URL.revokeObjectURL(entry.url);
      urls.current.clear();
    },
    [],
  );

  // One image needs no filmstrip: it is the image shown in the sidebar.
  if (queue.length < 2) return null;
  const index = queue.findIndex((item) => item.id === current);
  const onKeyDown = (event: KeyboardEvent<HTMLOListElement>): void => {
    const delta = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (delta === 0) return;
    event.preventDefault();
    const target = queue[Math.max(0, Math.min(queue.length - 1, (index < 0 ? 0 : index) + delta))];
    if (target !== undefined) void select(target.id);
  };
  const done = queue.filter((item) => item.status === 'done').length;

  return (
    <section className="panel filmstrip" aria-labelledby="filmstrip-title" data-testid="filmstrip">
      <h2 id="filmstrip-title">
        Images{' '}
        <span className="muted">
          ({done} of {queue.length} explained)
        </span>
      </h2>
      <ol className="filmstrip-items" onKeyDown={onKeyDown} aria-label="Queued images: arrow keys switch">
        {queue.map((item) => {
          const top = item.result?.predictions[0];
          return (
            <li key={item.id} data-status={item.status} data-testid="filmstrip-item">
              <button
                type="button"
                className="filmstrip-pick"
                aria-current={item.id === current ? 'true' : undefined}
                onClick={() => void select(item.id)}
                title={item.error ?? item.name}
              >
                <img src={thumbnails.get(item.id)} alt="" width={72} height={72} />
                <span className="name">{item.name}</span>
                <span className="status">
                  {item.id === next
                    ? 'next, after the running analysis'
                    : item.status === 'done' && top !== undefined
                      ? `${top.name} ${(top.prob * 100).toFixed(0)}%`
                      : STATUS_TEXT[item.status]}
                </span>
              </button>
              <button
                type="button"
                className="filmstrip-remove"
                aria-label={`Remove ${item.name} from the queue`}
                onClick={() => remove(item.id)}
              >
                ✕
              </button>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
