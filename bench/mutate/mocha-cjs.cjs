// Loaded into every Stryker process (NODE_OPTIONS, set by bench/mutate/run.ts).
// @stryker-mutator/mocha-runner 9 require()s mocha's CLI helpers by path without an extension
// (lib/cli/options, lib/cli/run-helpers, lib/cli/collect-files); mocha 12 ships them as .cjs files,
// which require() does not try. Let it try .cjs as well, loaded as the CommonJS they are. The
// runner's use of mocha is otherwise the programmatic API mocha 12 still has (new Mocha(),
// loadFilesAsync, grep, run, dispose).
require.extensions['.cjs'] ??= require.extensions['.js'];
