#!/usr/bin/env node
import { runCli } from '../dist/src/cli/run.js';
import { workerMain } from '../dist/src/cli/worker.js';

process.exitCode = await runCli(workerMain, process.argv);
