#!/usr/bin/env node
// The `baton` command as shipped in the image: the product's commands only.
// (The lab's `demo` and `chaos --lab` run from a checkout: dev/cli/main.ts.)
import { PRODUCT_COMMANDS } from './commands.js';
import { runCli } from './run-cli.js';

await runCli('baton', PRODUCT_COMMANDS, process.argv.slice(2));
