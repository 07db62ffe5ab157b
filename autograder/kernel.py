"""nbgrader's Execute step, with the notebook's kernel inside the sandbox.

nbgrader's autograde runs a notebook through its `Execute` preprocessor
(nbclient underneath), which starts a kernel with a jupyter_client kernel
manager. `SandboxedKernelManager` starts that kernel through
`autograder.sandbox.wrap`:

- the kernel's working folder is a fresh scratch folder holding copies of the
  submission's data files, NOT nbgrader's autograded folder: during execution
  that folder holds the notebook with the hidden tests put back;
- kernel and grader talk over ZeroMQ `ipc` sockets in that folder, since the
  sandbox has no network;
- an interrupt (cell timeout) is sent as a message, since a signal would stop
  at bwrap;
- a watchdog kills the kernel when the whole notebook overruns its deadline
  (a cell that ignores the interrupt would otherwise cost one timeout per
  remaining cell).

The settings come from traitlets configuration (`SandboxedKernelManager.*`),
which the grading worker sets once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import Float, Integer, Unicode

from . import sandbox


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in the bubblewrap sandbox."""

    scratch_root = Unicode("", help="Folder under which each kernel gets its scratch folder.").tag(config=True)
    sandbox_user = Integer(sandbox.UID_BASE, help="User id the kernel runs as (grader run as root).").tag(config=True)
    memory_mb = Integer(2048, help="Address-space limit of each kernel process, MB.").tag(config=True)
    cpu_seconds = Integer(600, help="CPU-time limit of each kernel process, s.").tag(config=True)
    processes = Integer(48, help="Processes and threads the kernel's user may have.").tag(config=True)
    deadline_seconds = Float(0.0, help="Kill the kernel this long after it starts (0: never).").tag(config=True)

    #: set by the watchdog when it had to kill a kernel; read by the grader
    deadline_hits = 0

    def _limits(self):
        return sandbox.Limits(memory_mb=self.memory_mb, cpu_seconds=self.cpu_seconds, processes=self.processes)

    async def _async_pre_start_kernel(self, **kw):
        source_folder = kw.get("cwd") or os.getcwd()
        root = Path(self.scratch_root or os.environ.get("TMPDIR", "/tmp"))
        self._scratch = root / f"k-{uuid.uuid4().hex[:8]}"
        sandbox.make_scratch(self._scratch, self.sandbox_user)
        copy_data_files(Path(source_folder), self._scratch)
        self.transport = "ipc"
        self.ip = str(self._scratch / "kernel")
        self.connection_file = str(self._scratch / "kernel.json")
        # A signal would reach bwrap, not the kernel: interrupt by message.
        self.kernel_spec.interrupt_mode = "message"
        kw["cwd"] = str(self._scratch)
        command, kw = await super()._async_pre_start_kernel(**kw)
        sandbox.give_to_sandbox(self._scratch, self.sandbox_user)
        # The kernel's parent inside the PID namespace is bwrap's init (pid 1),
        # which ipykernel's parent poller takes for an orphaned kernel: turn
        # it off; bwrap's --die-with-parent ties the kernel to the grader.
        command = [*command, "--IPKernelApp.parent_handle=0"]
        command = sandbox.wrap(command, scratch=self._scratch, sandbox_user=self.sandbox_user, limits=self._limits())
        env = {key: value for key, value in kw.get("env", {}).items() if key.startswith("NBGRADER_")}
        kw["env"] = sandbox.sandbox_env(self._scratch, env)
        kw["cwd"] = str(self._scratch)
        # The kernel's own banner and logs would land in the grader's terminal.
        kw["stdout"] = kw["stderr"] = subprocess.DEVNULL
        return command, kw

    async def _async_post_start_kernel(self, **kw):
        await super()._async_post_start_kernel(**kw)
        if self.deadline_seconds > 0:
            self._watchdog = threading.Thread(target=self._kill_at_deadline, daemon=True)
            self._watchdog_stop = threading.Event()
            self._watchdog.start()

    def _kill_at_deadline(self):
        if self._watchdog_stop.wait(self.deadline_seconds):
            return
        process = getattr(self.provisioner, "process", None)
        if process is not None and process.poll() is None:
            type(self).deadline_hits += 1
            sandbox.kill_group(process)

    async def _async_shutdown_kernel(self, now=False, restart=False):
        try:
            await super()._async_shutdown_kernel(now=now, restart=restart)
        finally:
            stop = getattr(self, "_watchdog_stop", None)
            if stop is not None:
                stop.set()
            process = getattr(self.provisioner, "process", None) if self.provisioner else None
            if process is not None:
                sandbox.kill_group(process)
            scratch = getattr(self, "_scratch", None)
            if scratch is not None and not restart:
                sandbox.remove_scratch(scratch)

    shutdown_kernel = _async_shutdown_kernel


def copy_data_files(folder, scratch):
    """Copy the files beside a notebook (not notebooks, not hidden ones) into
    the kernel's scratch folder. folder, scratch: Paths."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name.startswith(".") or entry.suffix == ".ipynb" or entry.is_symlink():
            continue
        target = scratch / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target, symlinks=False, ignore=shutil.ignore_patterns("*.ipynb", ".*"))
        elif entry.is_file():
            shutil.copy(entry, target)


class SandboxedExecute(Execute):
    """nbgrader's Execute with the kernel in the sandbox."""

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
