// Imported for its effect. tap's processinfo, loaded into every test process, instruments every
// process a test starts as well: a module-loader thread that copies each loaded file (the bundled
// job runner is 5 MB) and V8 coverage written at exit. Measured here: a start of the bundled runner
// 2.3 s under it, 1.0 s without, 0.6 s outside tap; a stand-in StackQL start ~290 ms vs ~150 ms.
// Children opt out through processinfo's own switches, which it copies from this process's
// environment into every child's (unless the child's env sets them): no coverage, and dist/
// (the bundles) not recorded. The code children run is covered by the in-process tests.
process.env._TAPJS_PROCESSINFO_COVERAGE_ = '0'
process.env._TAPJS_PROCESSINFO_EXCLUDE_ = String.raw`/(^(node|tapmock):|[\\/](\.tap|tap-snapshots|dist)[\\/])/`
