/**
 * Optimizer trajectories against PyTorch (test/fixtures/optimizers.py → optimizers.json):
 * several steps over parameters of several shapes, with momentum, Nesterov, weight decay,
 * schedules and gradient clipping; the parameters after every step and the state after
 * the last one must match. Schedules are checked against torch.optim.lr_scheduler.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

type Nested = number | Nested[];
interface Case {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop' | 'Adagrad' | 'Lion';
  options: Record<string, unknown>;
  init: Nested[];
  grads: Nested[][];
  trajectory: Nested[][];
  state: Record<string, Nested[]>;
  schedule?: { kind: string; args?: number[]; parts?: [string, ...number[]][]; boundaries?: number[] };
  clip?: number;
  norms?: number[];
}
interface Fixture {
  steps: number;
  cases: Case[];
  schedules: Record<string, number[]>;
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../fixtures/optimizers.json'), 'utf8')) as Fixture;
const { optimizers } = ma;

function schedule(name: string, args: number[]): ma.optimizers.Schedule {
  const fns: Record<string, (...a: number[]) => ma.optimizers.Schedule> = {
    cosineDecay: optimizers.cosineDecay,
    linearWarmup: optimizers.linearWarmup,
    exponentialDecay: optimizers.exponentialDecay,
    stepDecay: optimizers.stepDecay,
  };
  const fn = fns[name];
  if (fn === undefined) throw new Error(`no schedule ${name}`);
  return fn(...args);
}

function scheduleOf(spec: NonNullable<Case['schedule']>): ma.optimizers.Schedule {
  if (spec.kind === 'joinSchedules') {
    return optimizers.joinSchedules(
      (spec.parts ?? []).map(([name, ...args]) => schedule(name, args)),
      spec.boundaries ?? [],
    );
  }
  return schedule(spec.kind, spec.args ?? []);
}

function make(c: Case): ma.optimizers.Optimizer {
  const options = { ...c.options, ...(c.schedule ? { learningRate: scheduleOf(c.schedule) } : {}) } as never;
  switch (c.optimizer) {
    case 'SGD':
      return new optimizers.SGD(options);
    case 'Adam':
      return new optimizers.Adam(options);
    case 'AdamW':
      return new optimizers.AdamW(options);
    case 'RMSprop':
      return new optimizers.RMSprop(options);
    case 'Adagrad':
      return new optimizers.Adagrad(options);
    case 'Lion':
      return new optimizers.Lion(options);
  }
}

function expectClose(actual: ma.MetalArray, expected: Nested, what: string): void {
  const a = Array.from(actual.toTypedArray() as Float32Array);
  const e = [expected].flat(8) as number[];
  expect(a.length, what).toBe(e.length);
  let worst = 0;
  for (let i = 0; i < e.length; i++) {
    const err = Math.abs((a[i] as number) - (e[i] as number)) / (1e-6 + 1e-4 * Math.abs(e[i] as number));
    worst = Math.max(worst, err);
  }
  expect(worst, `${what}: ${a.slice(0, 6)} vs ${e.slice(0, 6)}`).toBeLessThanOrEqual(1);
}

describe('optimizers against PyTorch', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: ${fixture.steps} steps, ${c.init.length} parameters`, () => {
      const opt = make(c);
      let params: ma.MetalArray[] = c.init.map((x) => ma.array(x as number[], 'float32'));
      c.grads.forEach((stepGrads, k) => {
        let grads: ma.MetalArray[] = stepGrads.map((g) => ma.array(g as number[], 'float32'));
        if (c.clip !== undefined) {
          const [clipped, norm] = optimizers.clipGradNorm(grads, c.clip);
          expect(norm.item()).toBeCloseTo(c.norms?.[k] as number, 4);
          grads = clipped;
        }
        params = opt.applyGradients(grads, params);
        params.forEach((p, i) => {
          expectClose(p, (c.trajectory[k] as Nested[])[i] as Nested, `step ${k + 1}, parameter ${i}`);
        });
      });
      expect(opt.step).toBe(fixture.steps);
      const state = opt.state;
      expect(Object.keys(state).sort()).toEqual(['step', ...Object.keys(c.state)].sort());
      for (const [name, expected] of Object.entries(c.state)) {
        const arrays = state[name] as ma.MetalArray[];
        expected.forEach((e, i) => {
          expectClose(arrays[i] as ma.MetalArray, e, `state ${name} of parameter ${i}`);
        });
      }
    });
  }
});

describe('schedules against torch.optim.lr_scheduler', () => {
  const cases: [string, ma.optimizers.Schedule, number][] = [
    ['cosineDecay(0.1, 8, 0.001)', optimizers.cosineDecay(0.1, 8, 0.001), 9], // torch's cosine restarts after T_max; ours stays at end
    ['exponentialDecay(0.1, 0.9)', optimizers.exponentialDecay(0.1, 0.9), 12],
    ['stepDecay(0.1, 0.5, 3)', optimizers.stepDecay(0.1, 0.5, 3), 12],
    ['linearWarmup(0.1, 4, 0.01)', optimizers.linearWarmup(0.1, 4, 0.01), 12],
  ];
  for (const [key, fn, count] of cases) {
    it(key, () => {
      const expected = fixture.schedules[key] as number[];
      for (let s = 0; s < count; s++) expect(fn(s)).toBeCloseTo(expected[s] as number, 12);
    });
  }
  it('cosineDecay stays at its end value after decaySteps', () => {
    expect(optimizers.cosineDecay(0.1, 8, 0.001)(20)).toBeCloseTo(0.001, 12);
  });
  it('joinSchedules counts each schedule from its boundary', () => {
    const lr = optimizers.joinSchedules([optimizers.linearWarmup(1, 4), optimizers.exponentialDecay(1, 0.5), optimizers.linearSchedule(0.2, 0, 2)], [4, 6]);
    expect([0, 2, 4, 5, 6, 7, 8, 100].map(lr)).toEqual([0, 0.5, 1, 0.5, 0.2, 0.1, 0, 0]);
  });
});
