#!/usr/bin/env node
// The attune command: parses arguments and calls the library.

import { Command } from 'commander';
import '../index.js';
import { registerAutotuneCommand } from './autotune.js';
import { addDemoCommand } from './demo.js';
import { printInfo } from './info.js';
import { registerPredictCommand } from './predict.js';
import { registerReportCommands } from './report.js';
import { registerStudyCommands } from './study.js';
import { registerSummarizeCommand } from './summarize.js';
import { registerTrainCommand } from './train.js';
import { registerSeq2SeqTrainCommands } from './train-seq2seq.js';
import { registerTranslateCommand } from './translate.js';
import { registerTuneCommand } from './tune.js';
import { registerVizCommand } from './viz.js';

const program = new Command('attune').description('attention kernels, models and tuning for TypeScript');

addDemoCommand(program);
registerAutotuneCommand(program);
registerSeq2SeqTrainCommands(registerTrainCommand(program));
registerTranslateCommand(program);
registerSummarizeCommand(program);
registerPredictCommand(program);
registerReportCommands(program);
registerVizCommand(program);
registerStudyCommands(program);
registerTuneCommand(program);

program
  .command('info')
  .description('backend, kernel build, threads and heap')
  .action(() => printInfo());

program.parse();
