#!/usr/bin/env node
// The attune command: parses arguments and calls the library.

import { Command } from 'commander';
import '../index.js';
import { addDemoCommand } from './demo.js';
import { printInfo } from './info.js';
import { registerPredictCommand } from './predict.js';
import { registerReportCommands } from './report.js';
import { registerStudyCommands } from './study.js';
import { registerTrainCommand } from './train.js';

const program = new Command('attune').description('attention kernels, models and tuning for TypeScript');

addDemoCommand(program);
registerTrainCommand(program);
registerPredictCommand(program);
registerReportCommands(program);
registerStudyCommands(program);

program
  .command('info')
  .description('backend, kernel build, threads and heap')
  .action(() => printInfo());

program.parse();
