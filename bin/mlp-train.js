#!/usr/bin/env node
import { runCli } from '../dist/src/cli/run.js';
import { trainMain } from '../dist/src/cli/train.js';

process.exitCode = await runCli(trainMain, process.argv);
