import { describe, expect, it } from 'vitest';
import { CATEGORICAL_COLOURS, legendLayout, methodColours } from './MetricsCharts';

describe('chart legends and colours', () => {
  it('wrap legend entries inside the chart instead of running past its edge', () => {
    const titles = ['CAM', 'Grad-CAM', 'Grad-CAM++', 'MinMax-CAM', 'XGrad-CAM', 'Layer-CAM', 'Eigen-CAM', 'Score-CAM'];
    const places = legendLayout(titles, 40, 628);
    expect(places.at(-1)!.row).toBeGreaterThan(0);
    titles.forEach((title, i) => expect(places[i]!.x + 20 + title.length * 6.6).toBeLessThanOrEqual(628));
  });
  it('give eight methods eight different colour-blind-safe colours', () => {
    const methods = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const colour = methodColours(methods);
    expect(new Set(methods.map(colour)).size).toBe(8);
    expect(methods.map(colour).every((c) => CATEGORICAL_COLOURS.includes(c))).toBe(true);
  });
});
