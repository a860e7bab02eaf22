import { describe, expect, it } from 'vitest';
import { classifyFiles, isImageFile } from './drop';

const f = (name: string, type = ''): { name: string; type: string } => ({ name, type });

describe('classifyFiles', () => {
  it('recognises a model folder and keeps only its json and bin files', () => {
    const files = [
      f('model.json', 'application/json'),
      f('group1-shard1of2.bin'),
      f('group1-shard2of2.bin'),
      f('labels.json'),
      f('README.md'),
      f('cat.png', 'image/png'),
    ];
    const kind = classifyFiles(files, 'my-net');
    expect(kind.kind).toBe('model');
    if (kind.kind !== 'model') return;
    expect(kind.name).toBe('my-net');
    expect(kind.files.map((x) => x.name)).toEqual(['model.json', 'group1-shard1of2.bin', 'group1-shard2of2.bin', 'labels.json']);
  });
  it('an .onnx file is a model (with a metadata.json or labels file dropped beside it)', () => {
    const kind = classifyFiles([f('resnext.onnx'), f('labels.json'), f('cat.png', 'image/png')]);
    expect(kind.kind === 'model' && [kind.name, kind.files.map((x) => x.name)]).toEqual(['resnext', ['resnext.onnx', 'labels.json']]);
    const external = classifyFiles([f('model.onnx'), f('model.onnx.data'), f('metadata.json')]);
    expect(external.kind === 'model' && external.files.map((x) => x.name)).toEqual(['model.onnx', 'model.onnx.data', 'metadata.json']);
  });
  it('rejects shards without model.json', () => {
    const kind = classifyFiles([f('group1-shard1of1.bin')]);
    expect(kind.kind).toBe('none');
  });
  it('picks the first image otherwise', () => {
    const kind = classifyFiles([f('notes.txt', 'text/plain'), f('photo.JPG')]);
    expect(kind).toEqual({ kind: 'image', file: f('photo.JPG') });
  });
  it('a dropped folder of images (no model files) is a folder to evaluate, masks and all', () => {
    const files = [f('a.png', 'image/png'), f('a.mask.png', 'image/png'), f('notes.txt')];
    expect(classifyFiles(files, 'scenes')).toEqual({ kind: 'images-folder', files, name: 'scenes' });
    // Loose images (no folder) go to the exploration queue; a single one is opened.
    expect(classifyFiles(files)).toEqual({ kind: 'images', files: [files[0], files[1]] });
    expect(classifyFiles([files[0]!, files[2]!])).toEqual({ kind: 'image', file: files[0] });
  });
  it('explains what it cannot open', () => {
    const kind = classifyFiles([f('notes.txt', 'text/plain')]);
    expect(kind.kind === 'none' && kind.reason).toMatch(/notes\.txt/);
  });
  it('tells images by type or extension', () => {
    expect(isImageFile(f('x', 'image/webp'))).toBe(true);
    expect(isImageFile(f('x.gif'))).toBe(true);
    expect(isImageFile(f('x.bin'))).toBe(false);
  });
});
