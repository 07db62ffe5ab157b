"""What a fork server could save in grading (run with `make bench`): the CPU seconds of
bringing a grading process to the point where the learner's first cell would run,
started fresh against forked from a process that has already imported everything.

Each submission costs two fresh Python processes (autograder/kernel.py,
autograder/integrity.py), and most of their time goes to imports:

  kernel      ipykernel's IPKernelApp initialised (its shell, its IPython
              profile), then the imports a course notebook starts with
              (numpy, matplotlib.pyplot, conv_lib and its pictures)
  check       IPython's InteractiveShell (the independent check runs the
              notebook's cells in one: integrity_harness.py) and its first
              pass's imports: numpy and conv_lib, with matplotlib and the
              pictures left out as that pass leaves them out

A fork server would import these once and fork a process per submission. The
sandbox's own cost (bubblewrap, the scratch space, the memory group) would come
on top of both columns alike, and is left out here: neither process here is
sandboxed. Each row is the median of --repeats starts, of the child process's
user + system CPU seconds (os.wait4), fresh and forked one after the other in
one run.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

IMPORTS = "import numpy, matplotlib, matplotlib.pyplot, conv_lib, conv_lib.plots\n"

KERNEL_READY = IMPORTS + """
import os, tempfile
from ipykernel.kernelapp import IPKernelApp
folder = tempfile.mkdtemp()
app = IPKernelApp.instance(connection_file=os.path.join(folder, "kernel.json"), transport="ipc",
                           ip=os.path.join(folder, "ipc"))
app.initialize([])
app.shell.run_cell("import numpy as np\\nimport matplotlib.pyplot as plt\\nfrom conv_lib import plots")
"""

CHECK_READY = """
import numpy, conv_lib
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_cell("import numpy as np\\nfrom conv_lib import corr2d")
"""

PROCESSES = {"kernel": KERNEL_READY, "check": CHECK_READY}


def child_cpu_seconds(pid):
    """Wait for the child pid; its user + system CPU seconds."""
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_utime + usage.ru_stime


def fresh_start_seconds(code):
    """CPU seconds of a new Python process that runs code."""
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    return child_cpu_seconds(process.pid)


def forked_start_seconds(code):
    """CPU seconds of a process forked from this one (whose imports are done) that runs code."""
    pid = os.fork()
    if pid == 0:
        try:
            with open(os.devnull, "w") as quiet:
                os.dup2(quiet.fileno(), 1)
                os.dup2(quiet.fileno(), 2)
            exec(code, {"__name__": "__forked__"})
        finally:
            os._exit(0)
    return child_cpu_seconds(pid)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="starts of each kind (default 7)")
    arguments = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "agg")
    os.environ.setdefault("MPLCONFIGDIR", tempfile.mkdtemp(prefix="bench-forked-mpl-"))
    fresh = {name: [fresh_start_seconds(code) for _ in range(arguments.repeats)] for name, code in PROCESSES.items()}
    exec(IMPORTS + "from ipykernel.kernelapp import IPKernelApp\n"
         "from IPython.core.interactiveshell import InteractiveShell\n", {})  # the fork server's imports
    forked = {name: [forked_start_seconds(code) for _ in range(arguments.repeats)] for name, code in PROCESSES.items()}
    print(f"\nA grading process made ready to run the first cell, CPU seconds (median of {arguments.repeats}), "
          f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, not sandboxed")
    print(f"{'process':10}{'fresh':>10}{'forked':>10}{'saved':>10}")
    for name in PROCESSES:
        before, after = statistics.median(fresh[name]), statistics.median(forked[name])
        print(f"{name:10}{before:10.3f}{after:10.3f}{before - after:10.3f}")
    saved = sum(statistics.median(fresh[name]) - statistics.median(forked[name]) for name in PROCESSES)
    print(f"per submission (kernel + check): {saved:.3f} CPU s saved")


if __name__ == "__main__":
    main()
