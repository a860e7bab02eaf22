#!/usr/bin/env -S npx tsx
// `npm run docs:methods`: writes the method table of README.md (under "## Methods") from the method
// descriptors (src/shared/methods.ts), the single source of every method's id, title, family and reference.
// src/shared/methods.test.ts fails when the README and the descriptors disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { methodTableMarkdown } from '../src/shared/methods.ts';

const path = join(import.meta.dirname, '..', 'README.md');
const readme = readFileSync(path, 'utf8');
const heading = readme.indexOf('## Methods\n');
if (heading < 0) throw new Error('README.md has no "## Methods" section');
const start = readme.indexOf('\n|', heading) + 1;
const end = readme.indexOf('\n\n', start);
writeFileSync(path, `${readme.slice(0, start)}${methodTableMarkdown()}${readme.slice(end)}`);
console.log('README.md: method table written from src/shared/methods.ts');
