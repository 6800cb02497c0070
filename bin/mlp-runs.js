#!/usr/bin/env node
import { runCli } from '../dist/src/cli/run.js';
import { runsMain } from '../dist/src/cli/runs.js';

process.exitCode = await runCli(runsMain, process.argv);
