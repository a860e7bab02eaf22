/**
 * Class names from a labels file. Accepted forms:
 * - Keras `imagenet_class_index.json`: `{ "0": ["n01440764", "tench"], ... }`
 * - a JSON list: `["tench", "goldfish", ...]`
 * - an index -> name object: `{ "0": "tench", ... }`
 * Missing entries are named "class N".
 */
export function parseLabels(value: unknown, numClasses: number): { names: string[]; notes: string[] } {
  const notes: string[] = [];
  const names = Array.from({ length: numClasses }, (_, index) => `class ${index}`);
  let entries: Array<[number, unknown]>;
  if (Array.isArray(value)) {
    entries = value.map((item, index) => [index, item]);
  } else if (typeof value === 'object' && value !== null) {
    entries = Object.entries(value as Record<string, unknown>).map(([key, item]) => [Number(key), item]);
  } else {
    return { names, notes: ['the labels file is neither a list nor an object: classes are named "class N"'] };
  }
  let found = 0;
  for (const [index, item] of entries) {
    if (!Number.isInteger(index) || index < 0 || index >= numClasses) continue;
    const name = Array.isArray(item) ? item[item.length - 1] : item;
    if (typeof name === 'string' || typeof name === 'number') {
      names[index] = String(name);
      found += 1;
    }
  }
  if (entries.length !== numClasses) {
    notes.push(`the labels have ${entries.length} entries for ${numClasses} classes`);
  }
  if (found === 0) notes.push('no usable names in the labels file: classes are named "class N"');
  return { names, notes };
}
