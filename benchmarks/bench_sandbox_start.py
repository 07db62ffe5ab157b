"""How long a sandboxed process takes to be ready (run with `make bench`): started directly in its
sandbox, and placed there by the grading worker's fork server (autograder/fork_server.py), side by
side in one run.

Each submission costs two sandboxed Python processes, and most of their start is importing:

  kernel      the notebook's kernel (autograder/kernel.py): from asking for it until it answers
              (ipykernel's IPKernelApp and its IPython shell set up), then the imports a course
              notebook starts with (numpy, matplotlib.pyplot, conv_lib and its pictures), then
              shut down, its sandbox removed
  check       the independent check's process (sandbox.run, as autograder/integrity.py runs it):
              IPython's InteractiveShell and the first pass's imports (numpy, conv_lib), to its end

Both include the sandbox's own cost (bubblewrap, the scratch space, the memory group). Each row is the
median wall time of --repeats starts, the two ways alternating; the machine should be otherwise idle.
It needs what grading with the fork server needs: root, bubblewrap and a memory cgroup.
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder import fork_server, sandbox  # noqa: E402
from autograder.kernel import SandboxedKernelManager  # noqa: E402

FIRST_CELL = "import numpy as np\nimport matplotlib.pyplot as plt\nimport conv_lib\nfrom conv_lib import plots\n"

CHECK_READY = """
import numpy, conv_lib
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_cell("import numpy as np\\nfrom conv_lib import corr2d")
"""


async def kernel_seconds(root):
    """Wall seconds of one sandboxed kernel: started, its first cell run, shut down."""
    manager = SandboxedKernelManager(kernel_name="python3", scratch_root=str(root))
    started = time.perf_counter()
    await manager.start_kernel(cwd=str(root / "empty"))
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        reply = await client.execute_interactive(FIRST_CELL, timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=False)
    return time.perf_counter() - started


def check_seconds(root):
    """Wall seconds of one sandboxed check process, from its scratch folder made to removed."""
    started = time.perf_counter()
    scratch = sandbox.make_scratch(tempfile.mkdtemp(dir=root), sandbox.UID_BASE)
    try:
        code, stderr = sandbox.run([sys.executable, "-c", CHECK_READY], scratch=scratch,
                                   sandbox_user=sandbox.UID_BASE, timeout=120)
        assert code == 0, stderr
    finally:
        sandbox.remove_scratch(scratch)
    return time.perf_counter() - started


def measure(way, root, results):
    """One start of each process, `way` ("direct" or "fork server"), added to results[process][way]."""
    os.environ[fork_server.SWITCH] = "off" if way == "direct" else ""
    results["kernel"][way].append(asyncio.run(kernel_seconds(root)))
    results["check"][way].append(check_seconds(root))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="starts of each kind (default 7)")
    arguments = parser.parse_args()
    if not fork_server.wanted():
        raise SystemExit("the fork server is used only as root with a memory cgroup: nothing to compare here")
    sandbox.check_available()
    sandbox.precompile_course_code()
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-start-") as folder:
        root = Path(folder)
        os.chmod(root, 0o755)
        (root / "empty").mkdir()
        results = {"kernel": {"direct": [], "fork server": []}, "check": {"direct": [], "fork server": []}}
        measure("fork server", root, {"kernel": {"fork server": []}, "check": {"fork server": []}})  # its start
        for _ in range(arguments.repeats):
            for way in ("direct", "fork server"):
                measure(way, root, results)
    print(f"\nA sandboxed grading process made ready, wall seconds (median of {arguments.repeats}), "
          f"{os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'process':10}{'direct':>10}{'forked':>10}{'saved':>10}")
    saved = 0.0
    for name, ways in results.items():
        direct, forked = statistics.median(ways["direct"]), statistics.median(ways["fork server"])
        saved += direct - forked
        print(f"{name:10}{direct:10.3f}{forked:10.3f}{direct - forked:10.3f}")
    print(f"per submission (kernel + check): {saved:.3f} s saved")


if __name__ == "__main__":
    main()
