/** The studio store on a fake engine (src/testing/fake-engine.ts): the figure builder, the classroom walkthrough, and settings across reloads and shared links. */
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeEngine, blob, makeStore, resetLoadIds } from '../testing/fake-engine';
import { WALKTHROUGH_CHANNELS, WALKTHROUGH_STEPS } from './constants';
import { classroomLabels } from './selectors';
import type { StudioStore } from './types';

let engine: FakeEngine;
beforeEach(() => {
  engine = new FakeEngine();
  resetLoadIds();
});

describe('figure builder', () => {
  async function ready(): Promise<StudioStore> {
    const store = makeStore(engine);
    await store.getState().start();
    return store;
  }
  const image = (name: string) => ({ name: `${name}.png`, blob: new Blob([name]) });

  it('explains each image once for its cells; a look-only change needs no engine, a column change re-explains', async () => {
    const store = await ready();
    store.getState().addFigureImages([image('a'), image('broken'), image('b')]);
    store.getState().setFigureSpec({ methods: ['cam', 'gradcam'], label: 'top' });
    await store.getState().buildFigure();
    const s = store.getState();
    expect(engine.figureRequests.map((r) => r.name)).toEqual(['a', 'broken', 'b']);
    expect(engine.figureRequests[0]!.request.cells).toEqual([
      { method: 'cam', label: 'top' },
      { method: 'gradcam', label: 'top' },
    ]);
    expect(Object.keys(s.figureRows)).toEqual(['a.png', 'b.png']);
    expect(s.figureFailures).toEqual({ 'broken.png': 'broken is not an image' });
    expect(s.figureStatus).toBe('done');

    store.getState().setFigureSpec({ colormap: 'viridis', opacity: 0.8, width: 'single' });
    store.getState().removeFigureImage('broken.png');
    await store.getState().buildFigure();
    expect(engine.figureRequests).toHaveLength(3); // nothing to explain again

    store.getState().addFigureImages([image('a')]); // same name: kept apart
    expect(store.getState().figureImages.map((i) => i.name)).toEqual(['a.png', 'b.png', 'a (2).png']);
    await store.getState().buildFigure();
    expect(engine.figureRequests.map((r) => r.name).slice(3)).toEqual(['a']);

    store.getState().setFigureSpec({ columns: 'labels', labels: [0, 2], methods: ['minmax-cam'] });
    await store.getState().buildFigure();
    expect(engine.figureRequests).toHaveLength(7);
    expect(engine.figureRequests[6]!.request.cells).toEqual([
      { method: 'minmax-cam', label: 0 },
      { method: 'minmax-cam', label: 2 },
    ]);
    store.getState().moveFigureImage('a (2).png', -1);
    expect(store.getState().figureImages.map((i) => i.name)).toEqual(['a.png', 'a (2).png', 'b.png']);
  });

  it('cancel stops the build and keeps the rows done', async () => {
    const store = await ready();
    store.getState().addFigureImages([image('a'), image('b')]);
    engine.holdFigure = true;
    const building = store.getState().buildFigure();
    await new Promise((resolve) => setTimeout(resolve, 0));
    await store.getState().cancelFigure();
    await building;
    expect(store.getState().figureStatus).toBe('cancelled');
    expect(store.getState().figureProgress).toBeNull();
    expect(engine.figureRequests).toHaveLength(1);
  });

  it('saves settings with the images and the catalog model, and loads them back (samples fetched, others listed as missing)', async () => {
    const store = await ready();
    store.getState().addFigureImages([{ ...image('scene'), src: 'samples/shapes/scene.png' }, image('mine')]);
    store.getState().setFigureSpec({ methods: ['gradcam'], colormap: 'magma' });
    const json = store.getState().figureSpecJson();
    const saved = JSON.parse(json) as { model: string; images: unknown[]; colormap: string };
    expect(saved.model).toBe('resnet50-imagenet');
    expect(saved.images).toEqual([{ name: 'scene.png', src: 'samples/shapes/scene.png' }, { name: 'mine.png' }]);
    const other = await ready();
    await other.getState().loadFigureSpec(json);
    const s = other.getState();
    expect(s.figureSpec.colormap).toBe('magma');
    expect(s.figureSpec.methods).toEqual(['gradcam']);
    expect(s.figureImages.map((i) => [i.name, i.src])).toEqual([['scene.png', 'samples/shapes/scene.png']]);
    expect(s.figureMissing).toEqual(['mine.png']);
    other.getState().addFigureImages([image('mine')]);
    expect(other.getState().figureMissing).toEqual([]);
  });

  it('bad settings files get a message naming the problem, and the figure stays', async () => {
    const store = await ready();
    store.getState().addFigureImages([image('a')]);
    await store.getState().loadFigureSpec('{ not json');
    expect(store.getState().lastError?.code).toBe('figure-settings');
    await store.getState().loadFigureSpec(JSON.stringify({ methods: ['cam'], label: 5000 }));
    expect(store.getState().lastError?.message).toMatch(/"label" must be a class index from 0 to/);
    expect(store.getState().figureImages).toHaveLength(1);
  });
});

describe('classroom walkthrough', () => {
  async function ready(): Promise<StudioStore> {
    const store = makeStore(engine);
    await store.getState().start();
    await store.getState().setImage(blob(100), 'cat.png');
    return store;
  }

  it('defaults to the top prediction contrasted with the next; L / C cycle without ever making them equal', async () => {
    const store = await ready();
    const labels = () => classroomLabels(store.getState());
    expect(labels()).toEqual({ label: 281, contrast: 285 });
    store.getState().cycleClassroomLabel('label', 1); // 285 is the contrast: skipped
    expect(labels()).toEqual({ label: 282, contrast: 285 });
    store.getState().cycleClassroomLabel('contrast', 1);
    expect(labels()).toEqual({ label: 282, contrast: 281 });
    store.getState().cycleClassroomLabel('label', -1);
    expect(labels().label).not.toBe(labels().contrast);
  });

  it('loads the numbers once per image, label and contrast; steps and methods stay in range', async () => {
    const store = await ready();
    await store.getState().loadWalkthrough();
    await store.getState().loadWalkthrough();
    expect(engine.walkthroughRequests).toEqual([{ label: 281, contrastLabel: 285, channels: WALKTHROUGH_CHANNELS }]);
    expect(store.getState().walkthroughStatus).toBe('done');
    store.getState().cycleClassroomLabel('label', 1);
    await store.getState().loadWalkthrough();
    expect(engine.walkthroughRequests.at(-1)).toEqual({ label: 282, contrastLabel: 285, channels: WALKTHROUGH_CHANNELS });
    store.getState().stepClassroom(-1);
    expect(store.getState().classroomStep).toBe(0);
    store.getState().setClassroomStep(99);
    expect(store.getState().classroomStep).toBe(WALKTHROUGH_STEPS.length - 1);
    const methods = [store.getState().classroomMethod];
    for (let i = 0; i < 3; i += 1) {
      store.getState().cycleClassroomMethod();
      methods.push(store.getState().classroomMethod);
    }
    expect(methods).toEqual(['cam', 'gradcam', 'minmax-cam', 'cam']);
  });
});

describe('settings across reloads and shared links', () => {
  it("a reload restores the mode, methods and look; a link's settings override them; defaults never overwrite before start", async () => {
    const storage = new Map<string, string>();
    const first = makeStore(engine, { storage });
    first.getState().setColormap('viridis'); // before start: not written (start has not read the stored settings yet)
    expect(storage.size).toBe(0);
    await first.getState().start();
    first.getState().setColormap('magma');
    first.getState().setMode('figure');
    await first.getState().setMethods(['minmax-cam', 'cam']);
    first.getState().setOpacity(0.8);

    const reloaded = makeStore(engine, { storage });
    await reloaded.getState().start();
    let s = reloaded.getState();
    expect([s.colormap, s.mode, s.methods, s.opacity]).toEqual(['magma', 'figure', ['cam', 'minmax-cam'], 0.8]);

    const linked = makeStore(engine, { storage, search: '?colormap=cividis&mode=classroom&methods=gradcam&detect=topk:2&opacity=nope' });
    await linked.getState().start();
    s = linked.getState();
    expect([s.colormap, s.mode, s.methods, s.opacity, s.detection]).toEqual([
      'cividis',
      'classroom',
      ['gradcam'],
      0.8,
      { kind: 'top-k', k: 2 },
    ]);
    expect(s.notices.some((notice) => /opacity/.test(notice))).toBe(true);
    expect(JSON.parse(storage.get('cam-studio.settings.v1')!)).toMatchObject({ colormap: 'cividis', mode: 'classroom' });
  });
});
