// Loaded by mocha before any test file (.mocharc.json "require").
// The AWS SDK warns once per process that its 2027 releases will need Node 22; the lockfile pins
// versions that run on Node 20, so the warning is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
