/**
 * The eight shape classes of the synthetic scenes and their point-membership tests.
 *
 * Classes differ by *form* only: colour, size, rotation and position are drawn independently of the class.
 * Each shape lives in its own unit frame: (u, v) in units of the object's radius, v pointing down (image
 * convention), centred on the object's centre; every shape fits inside the disc of radius
 * {@link SHAPE_EXTENT}. Shapes are defined by implicit inequalities (circle, square, ring, cross, heart) or
 * even-odd point-in-polygon tests (triangle, star, arrow); the rasteriser supersamples these tests.
 *
 * Areas (in units of radius²) are kept within about 1:3.5 of each other so that no class is much easier to
 * hide by occlusion: circle 3.14, ring 2.19, square 2.19, heart 2.35, cross 1.92, triangle 1.30, star 1.32,
 * arrow ~1.02.
 */
import { sinCos, TWO_PI } from './prng';

/** Class names, in class-index order (class k is mask index k + 1). */
export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'star', 'ring', 'cross', 'heart', 'arrow'] as const;
export type ShapeClassName = (typeof SHAPE_CLASSES)[number];
export const NUM_SHAPE_CLASSES = SHAPE_CLASSES.length;

/** Every shape lies inside the disc of this radius (unit frame). */
export const SHAPE_EXTENT = 1.06;

/** A point-membership test in the unit frame. */
export type ShapeTest = (u: number, v: number) => boolean;

interface Polygon {
  xs: Float64Array;
  ys: Float64Array;
}

function polygon(points: ReadonlyArray<readonly [number, number]>): Polygon {
  return { xs: Float64Array.from(points, (p) => p[0]), ys: Float64Array.from(points, (p) => p[1]) };
}

/** Even-odd crossing test (W. Randolph Franklin's PNPOLY). */
function insidePolygon(poly: Polygon, u: number, v: number): boolean {
  const { xs, ys } = poly;
  const n = xs.length;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i, i += 1) {
    const yi = ys[i]!;
    const yj = ys[j]!;
    if (yi > v !== yj > v) {
      const xi = xs[i]!;
      if (u < ((xs[j]! - xi) * (v - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

/** Regular star/polygon vertices: `count` points alternating between radii (pointing up). */
function radialPolygon(count: number, radii: readonly number[]): Polygon {
  const points: Array<[number, number]> = [];
  for (let i = 0; i < count; i += 1) {
    const [s, c] = sinCos(-TWO_PI / 4 + (TWO_PI * i) / count);
    const r = radii[i % radii.length]!;
    points.push([r * c, r * s]);
  }
  return polygon(points);
}

const TRIANGLE = radialPolygon(3, [1]);
const STAR = radialPolygon(10, [1, 0.45]);
/** Pointing right: a shaft and a wide head. */
const ARROW = polygon([
  [-0.95, -0.22],
  [0.05, -0.22],
  [0.05, -0.62],
  [0.95, 0],
  [0.05, 0.62],
  [0.05, 0.22],
  [-0.95, 0.22],
]);

const SQUARE_HALF = 0.74;
const RING_INNER = 0.55;
const CROSS_HALF_WIDTH = 0.3;
const CROSS_HALF_LENGTH = 0.95;
/** Heart curve (x² + y² - 1)³ - x² y³ <= 0, scaled and shifted so its smallest enclosing disc is the unit disc. */
const HEART_SCALE = 1.25;
const HEART_SHIFT = 0.25;

/** Membership tests, indexed by class id (same order as {@link SHAPE_CLASSES}). */
export const SHAPE_TESTS: readonly ShapeTest[] = [
  // circle
  (u, v) => u * u + v * v <= 1,
  // square
  (u, v) => Math.abs(u) <= SQUARE_HALF && Math.abs(v) <= SQUARE_HALF,
  // triangle
  (u, v) => insidePolygon(TRIANGLE, u, v),
  // star
  (u, v) => insidePolygon(STAR, u, v),
  // ring
  (u, v) => {
    const r2 = u * u + v * v;
    return r2 <= 1 && r2 >= RING_INNER * RING_INNER;
  },
  // cross (a "plus")
  (u, v) => {
    const au = Math.abs(u);
    const av = Math.abs(v);
    return (au <= CROSS_HALF_WIDTH && av <= CROSS_HALF_LENGTH) || (av <= CROSS_HALF_WIDTH && au <= CROSS_HALF_LENGTH);
  },
  // heart (point at the bottom)
  (u, v) => {
    const x = u * HEART_SCALE;
    const y = -v * HEART_SCALE + HEART_SHIFT;
    const q = x * x + y * y - 1;
    return q * q * q - x * x * y * y * y <= 0;
  },
  // arrow
  (u, v) => insidePolygon(ARROW, u, v),
];
