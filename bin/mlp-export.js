#!/usr/bin/env node
import { runCli } from '../dist/src/cli/run.js';
import { exportMain } from '../dist/src/cli/export.js';

process.exitCode = await runCli(exportMain, process.argv);
