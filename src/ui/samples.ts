import { useEffect, useState } from 'react';

export interface Sample {
  file: string;
  title: string;
  credit: string;
}

/** Validates public/samples/samples.json: `[{ file, title, credit }]`. */
export function parseSamples(value: unknown): Sample[] {
  if (!Array.isArray(value)) return [];
  const out: Sample[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null) continue;
    const { file, title, credit } = item as Record<string, unknown>;
    if (typeof file !== 'string' || file === '' || file.includes('/')) continue;
    out.push({ file, title: typeof title === 'string' ? title : file, credit: typeof credit === 'string' ? credit : '' });
  }
  return out;
}

/** The sample gallery's list, fetched once. */
export function useSamples(): { samples: Sample[]; error: string | null } {
  const [state, setState] = useState<{ samples: Sample[]; error: string | null }>({ samples: [], error: null });
  useEffect(() => {
    let live = true;
    fetch(new URL('samples/samples.json', document.baseURI))
      .then(async (response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return parseSamples(await response.json());
      })
      .then(
        (samples) => live && setState({ samples, error: null }),
        (error: unknown) => live && setState({ samples: [], error: `Sample images unavailable (${error instanceof Error ? error.message : String(error)})` }),
      );
    return () => {
      live = false;
    };
  }, []);
  return state;
}
