import katex from 'katex';
import { useMemo } from 'react';

/**
 * A formula typeset by KaTeX as MathML (the browser lays it out; no inline styles or scripts, so it stays
 * within the studio's Content-Security-Policy). `tex` is written by the studio, never by users.
 */
export function Formula({ tex, label }: { tex: string; label: string }) {
  const markup = useMemo(() => katex.renderToString(tex, { output: 'mathml', throwOnError: false, displayMode: true }), [tex]);
  return <div className="formula" role="math" aria-label={label} dangerouslySetInnerHTML={{ __html: markup }} />;
}
