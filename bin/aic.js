#!/usr/bin/env node
// The `aic` command (package.json "bin"); the CLI itself is src/cli/main.ts.
'use strict';
require('../dist/cli/main.js')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
