// Significance code on cases whose answers are known.
import { describe, expect, it } from 'vitest';
import { holm, pairedBootstrapCI, pairedRandomizationTest } from '../lib/stats/index.js';
import { rng } from './helpers/shared.js';

describe('stats', () => {
  it('identical runs: p = 1 and a zero-width interval', () => {
    const zeros = new Float64Array(200);
    expect(pairedRandomizationTest(zeros)).toBe(1);
    expect(pairedRandomizationTest(new Float64Array(10))).toBe(1); // exact enumeration path
    expect(pairedBootstrapCI(zeros)).toEqual([0, 0]);
  });

  it('a constant shift: tiny p and an interval on the shift', () => {
    const shift = new Float64Array(100).fill(0.05);
    expect(pairedRandomizationTest(shift)).toBeLessThan(0.001);
    const [lo, hi] = pairedBootstrapCI(shift);
    expect(lo).toBeCloseTo(0.05, 12);
    expect(hi).toBeCloseTo(0.05, 12);
  });

  it('exact sign-flip p for a small sample: all 2^n flips', () => {
    // diffs 1,1,1: only the two all-same-sign flips reach |mean| = 1, so p = 2/8
    expect(pairedRandomizationTest([1, 1, 1])).toBe(0.25);
  });

  it('pure noise is rarely significant and the interval covers 0', () => {
    const r = rng(5);
    const noise = Float64Array.from({ length: 300 }, () => r() - 0.5);
    expect(pairedRandomizationTest(noise)).toBeGreaterThan(0.05);
    const [lo, hi] = pairedBootstrapCI(noise);
    expect(lo).toBeLessThan(0);
    expect(hi).toBeGreaterThan(0);
  });

  it('is deterministic under a seed and changes with it', () => {
    const r = rng(6);
    const d = Float64Array.from({ length: 80 }, () => r() - 0.45);
    expect(pairedBootstrapCI(d, { seed: 3 })).toEqual(pairedBootstrapCI(d, { seed: 3 }));
    expect(pairedRandomizationTest(d, { seed: 3 })).toBe(pairedRandomizationTest(d, { seed: 3 }));
    expect(pairedBootstrapCI(d, { seed: 3 })).not.toEqual(pairedBootstrapCI(d, { seed: 4 }));
  });

  it("Holm's adjustment", () => {
    // sorted 0.01, 0.02, 0.04 -> 0.03, 0.04, 0.04 (monotone)
    expect(holm([0.04, 0.01, 0.02])).toEqual([0.04, 0.03, 0.04]);
    expect(holm([0.5, 0.9])).toEqual([1, 1]);
  });
});
