#!/usr/bin/env node
'use strict';
// `node trigger ...` and the `aurora-load-test` bin: run the TypeScript CLI through tsx's CommonJS
// hook, so it works right after `npm ci` with no build step.
require('tsx/cjs/api').register();
require('./cli.ts').start();
