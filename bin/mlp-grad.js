#!/usr/bin/env node
import { runCli } from '../dist/src/cli/run.js';
import { gradMain } from '../dist/src/cli/grad.js';

process.exitCode = await runCli(gradMain, process.argv);
