#!/usr/bin/env node
import { runCli } from '../dist/src/cli/run.js';
import { reproduceMain } from '../dist/src/cli/reproduce.js';

process.exitCode = await runCli(reproduceMain, process.argv);
