#!/usr/bin/env node
// Committed shim so npm can link the command at install time, before the TypeScript is built.
require('../dist/bin.js');
