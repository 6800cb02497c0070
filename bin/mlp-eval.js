#!/usr/bin/env node
import { runCli } from '../dist/src/cli/run.js';
import { evalMain } from '../dist/src/cli/eval.js';

process.exitCode = await runCli(evalMain, process.argv);
