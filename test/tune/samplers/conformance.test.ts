// The sampler conformance suite (conformance.ts) run against every sampler and mode.

import { GridSampler } from '../../../src/tune/samplers/grid.js';
import { NSGAIISampler } from '../../../src/tune/samplers/nsga2.js';
import { RandomSampler } from '../../../src/tune/samplers/random.js';
import { TPESampler } from '../../../src/tune/samplers/tpe.js';
import { samplerConformance } from './conformance.js';

samplerConformance('RandomSampler', (seed) => new RandomSampler({ seed }));
samplerConformance('TPESampler univariate', (seed) => new TPESampler({ seed, nStartupTrials: 5 }));
samplerConformance('TPESampler multivariate', (seed) => new TPESampler({ seed, nStartupTrials: 5, multivariate: true }));
samplerConformance('TPESampler multivariate+group', (seed) => new TPESampler({ seed, nStartupTrials: 5, multivariate: true, group: true }));
samplerConformance('TPESampler constant liar', (seed) => new TPESampler({ seed, nStartupTrials: 5, constantLiar: true }));
samplerConformance('TPESampler two objectives', (seed) => new TPESampler({ seed, nStartupTrials: 5 }), {
  directions: ['minimize', 'maximize'],
});
samplerConformance('NSGAIISampler uniform', (seed) => new NSGAIISampler({ seed, populationSize: 8 }), {
  directions: ['minimize', 'minimize'],
});
samplerConformance('NSGAIISampler sbx', (seed) => new NSGAIISampler({ seed, populationSize: 8, crossover: 'sbx' }), {
  directions: ['minimize', 'maximize'],
});
samplerConformance('NSGAIISampler one objective', (seed) => new NSGAIISampler({ seed, populationSize: 8 }));
samplerConformance(
  'GridSampler',
  (seed) =>
    new GridSampler(
      {
        uniform: [-3.5, 0, 7.25],
        logFloat: [1e-5, 1e-3],
        stepFloat: [0.1, 0.4],
        int: [-4, 9],
        stepInt: [2, 5],
        logInt: [1, 64, 1024],
        cat: ['relu', 7, null],
        model: ['linear', 'tree'],
        lr: [1e-4, 0.5],
        depth: [1, 12],
        minLeaf: [0, 0.75],
        a: [2.5],
        b: [3],
        c: ['only'],
        x: [0, 1],
      },
      { seed },
    ),
);
