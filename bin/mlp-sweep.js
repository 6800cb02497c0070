#!/usr/bin/env node
import { runCli } from '../dist/src/cli/run.js';
import { sweepMain } from '../dist/src/cli/sweep.js';

process.exitCode = await runCli(sweepMain, process.argv);
