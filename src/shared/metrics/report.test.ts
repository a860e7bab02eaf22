import { describe, expect, it } from 'vitest';
import { csvAsTextTable } from './report';

describe('the report on the terminal', () => {
  it('aligns the CSV as a text table, the digits of marked and unmarked numbers in line', () => {
    const table = csvAsTextTable('metric,better,cam,gradcam,support\n%IC,higher,28.03*,9.50,38\n%AD,lower,9.25,1.00*,38\n');
    const [header, rule, first, second] = table.trimEnd().split('\n');
    expect(header).toBe('metric  better  cam     gradcam  support');
    expect(rule).toMatch(/^-+ {2}-+/);
    expect(first!.indexOf('28.03') + 5, 'the cam column').toBe(second!.indexOf('9.25') + 4);
    expect(first!.indexOf('9.50') + 4, 'the gradcam column').toBe(second!.indexOf('1.00') + 4);
  });
});
