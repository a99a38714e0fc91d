// Loaded by mocha before any test file (.mocharc.json "require").
// The AWS SDK warns once per process that its 2027 releases will need Node 22; the lockfile pins
// versions that run on Node 20, so the warning is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// An unhandled rejection crashes the process in Node (and in Lambda's runtime, which ends the
// environment with Runtime.UnhandledPromiseRejection), but mocha traps it and, finding no other
// listener, drops it: a test would pass over a crash. Rethrown, it is an uncaught exception, which
// mocha fails the running test with.
process.on('unhandledRejection', (reason) => {
  throw reason;
});
