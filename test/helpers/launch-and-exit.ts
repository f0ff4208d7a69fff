// A stand-in for the web server in the local-runner tests: starts ONE local run with the real
// launcher, prints what it returned as JSON, and exits at once — as a server that restarts mid-run.
// argv[2]: JSON { command, env, cwd, logDir, timeoutMs, schedule }.
import { createLocalRunLauncher } from '../../src/services/local-runner.js'

const opts = JSON.parse(process.argv[2]!)
const quiet = { info: () => {}, warn: () => {} }
const launch = createLocalRunLauncher({ ...opts, log: quiet })
const started = await launch(opts.schedule)
process.stdout.write(`${JSON.stringify(started)}\n`, () => process.exit(0))
