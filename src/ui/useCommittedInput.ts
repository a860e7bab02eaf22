import { useEffect, useRef, useState, type ChangeEvent, type KeyboardEvent } from 'react';

/**
 * A text or number field whose value is committed to the store a moment after typing stops, on Enter
 * and on blur (so typing "0.35" does not start three analyses). `commit` returns an error message for a
 * value it cannot use (the draft stays, marked invalid) or null. While the field is not being edited it
 * follows `external` (the store's value).
 */
export function useCommittedInput(external: string, commit: (text: string) => string | null, delayMs = 600) {
  const [draft, setDraft] = useState(external);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const commitRef = useRef(commit);
  commitRef.current = commit;
  const lastCommitted = useRef(external);

  useEffect(() => {
    if (!editing) {
      setDraft(external);
      setError(null);
      lastCommitted.current = external;
    }
  }, [external, editing]);
  useEffect(() => () => clearTimeout(timer.current), []);

  const flush = (text: string): void => {
    clearTimeout(timer.current);
    timer.current = undefined;
    if (text === lastCommitted.current) {
      setError(null);
      return;
    }
    const problem = commitRef.current(text);
    setError(problem);
    if (problem === null) lastCommitted.current = text;
  };

  return {
    value: draft,
    error,
    onChange: (event: ChangeEvent<HTMLInputElement>): void => {
      const text = event.target.value;
      setDraft(text);
      setEditing(true);
      clearTimeout(timer.current);
      timer.current = setTimeout(() => flush(text), delayMs);
    },
    onBlur: (): void => {
      flush(draft);
      setEditing(false);
    },
    onKeyDown: (event: KeyboardEvent<HTMLInputElement>): void => {
      if (event.key === 'Enter') {
        event.preventDefault();
        flush(draft);
      } else if (event.key === 'Escape') {
        clearTimeout(timer.current);
        setDraft(external);
        setError(null);
        setEditing(false);
      }
    },
  };
}
