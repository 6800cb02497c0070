#!/usr/bin/env node
import { runCli } from '../dist/src/cli/run.js';
import { predictMain } from '../dist/src/cli/predict.js';

process.exitCode = await runCli(predictMain, process.argv);
