#!/usr/bin/env node
// The `dvr` command (package.json "bin"). Kept apart from commands.ts so tests can import the commands without running them.
import { cli } from './commands.js';

await cli();
