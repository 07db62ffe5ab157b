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
- the kernel's sandbox has caps as a whole (confinement.py): its scratch
  folder is bounded (--disk), its processes together hold at most --memory;
- a `confinement.Watch` stops the kernel when it passes one of them, or when
  the whole notebook overruns its deadline (--notebook-timeout; a cell that
  ignores the interrupt would otherwise cost one timeout per remaining cell);
- `SandboxedExecute` keeps at most a budget of each cell's and of the whole
  notebook's output as it streams in, and drops the rest with one note: a
  notebook that prints without end cannot grow the grader's memory.

What had to be stopped or cut in the notebook being graded is recorded in
`NotebookRun` (`begin_notebook()` starts a fresh record; the worker reads it).
The settings come from traitlets configuration (`SandboxedKernelManager.*`,
`SandboxedExecute.*`), which the grading worker sets once.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import subprocess
import time
import uuid
from queue import Empty
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import zmq
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from nbclient.util import run_sync
from nbgrader.preprocessors import Execute
from traitlets import DottedObjectName, Float, Integer, Type, Unicode

from . import confinement, fork_server, sandbox
from .stage_times import Stopwatch


@dataclass
class NotebookRun:
    """What the sandbox stopped or cut while one notebook ran.

    stopped: "" or why its kernel was stopped: "deadline", "memory",
    "disk-bytes", "disk-files" (confinement.Watch.reason);
    interrupts: cell timeouts (the kernel was interrupted);
    printed, dropped: bytes of output the notebook sent, and of those the
    bytes dropped for passing the output budget;
    watch: the seconds of the kernel's stages of stage_times.STAGES ("kernel
    start", "notebook cells", "kernel stop")."""

    stopped: str = ""
    interrupts: int = 0
    printed: int = 0
    dropped: int = 0
    watch: Stopwatch = field(default_factory=Stopwatch)


_current = NotebookRun()


def begin_notebook():
    """Start a fresh NotebookRun record for the next notebook and return it
    (a grading worker runs one notebook at a time)."""
    global _current
    _current = NotebookRun()
    return _current


OUTPUT_MESSAGES = frozenset({"stream", "display_data", "execute_result", "update_display_data"})
LARGE_MESSAGE = 64 * 1024
"""Output messages at least this large are dropped unread when they would pass the budget."""
QUEUED_MESSAGES = 64
LARGEST_MESSAGE = 64 * 2**20
"""A larger message from the kernel is refused by ZeroMQ (which then reconnects); no notebook's output is that large."""


IOPUB_QUIET = 0.01
"""Seconds of quiet on a new kernel's IOPub channel after which its first cell is sent (SandboxedKernelClient)."""


class OutputBudgetChannel(AsyncZMQSocketChannel):
    """The iopub channel, which reads a large output message only when the
    output budget can keep it: one that would be dropped anyway is not
    verified nor decoded (that costs the grader about 10 ms a MB) but handed
    on as a stub, {"dropped_bytes": its size, header, parent_header}, so a
    notebook that prints without end is drained as fast as it prints."""

    #: would_drop(size) -> bool, set by SandboxedExecute; None reads everything
    would_drop = None

    async def _recv(self, **kwargs):
        frames = await self.socket.recv_multipart(copy=False)  # no copy of what is dropped
        _, message = self.session.feed_identities(frames, copy=False)
        size = sum(len(frame) for frame in message[4:])  # content and buffers
        if self.would_drop is not None and size >= LARGE_MESSAGE and self.would_drop(size):
            header = self.session.unpack(message[1].bytes)
            if header.get("msg_type") in OUTPUT_MESSAGES:
                await asyncio.sleep(0)  # let nbclient's timers run while a flood is drained
                return {"header": header, "parent_header": self.session.unpack(message[2].bytes),
                        "msg_id": header.get("msg_id"), "msg_type": header.get("msg_type"),
                        "metadata": {}, "content": {}, "buffers": [], "dropped_bytes": size}
        return self.session.deserialize(message, copy=False)


class SandboxedKernelClient(AsyncKernelClient):
    """jupyter_client's kernel client with the OutputBudgetChannel for iopub,
    and sockets that hold at most QUEUED_MESSAGES messages, each at most
    LARGEST_MESSAGE, not yet read (ZeroMQ's defaults, 1000 of any size, let a
    notebook that prints faster than the grader reads fill the grader's memory)."""

    iopub_channel_class = Type(OutputBudgetChannel)

    def _context_default(self):
        context = super()._context_default()
        context.setsockopt(zmq.RCVHWM, QUEUED_MESSAGES)
        context.setsockopt(zmq.MAXMSGSIZE, LARGEST_MESSAGE)
        return context

    async def _async_wait_for_ready(self, timeout=None):
        """Wait until the new kernel answers: a kernel_info reply on the shell channel and then a message
        on IOPub, which shows that channel is connected too (else ask again); then read what IOPub has
        queued until it has been quiet for IOPUB_QUIET s. jupyter_client waits for 0.2 s of quiet, which
        every submission waited out; nbclient reads only the messages that answer its own requests, so
        one that comes later changes nothing. Raises RuntimeError if the kernel dies first or does not
        answer within timeout seconds (None: no limit), as jupyter_client does."""
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass  # IOPub is not connected yet: ask again
                else:
                    self._handle_kernel_info_reply(reply)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        while True:
            try:
                await self.iopub_channel.get_msg(timeout=IOPUB_QUIET)
            except Empty:
                return

    wait_for_ready = _async_wait_for_ready


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in the bubblewrap sandbox."""

    client_class = DottedObjectName("autograder.kernel.SandboxedKernelClient")
    client_factory = Type(SandboxedKernelClient)

    scratch_root = Unicode("", help="Folder under which each kernel gets its scratch folder.").tag(config=True)
    sandbox_user = Integer(sandbox.UID_BASE, help="User id the kernel runs as (grader run as root).").tag(config=True)
    memory_mb = Integer(2048, help="Address-space limit of each kernel process, MB.").tag(config=True)
    cpu_seconds = Integer(600, help="CPU-time limit of each kernel process, s.").tag(config=True)
    processes = Integer(48, help="Processes and threads the kernel's user may have.").tag(config=True)
    disk_mb = Integer(sandbox.Limits.disk_mb, help="The kernel's scratch folder, all files together, MB.").tag(config=True)
    deadline_seconds = Float(0.0, help="Kill the kernel this long after it starts (0: never).").tag(config=True)

    def _limits(self):
        return sandbox.Limits(memory_mb=self.memory_mb, cpu_seconds=self.cpu_seconds, processes=self.processes,
                              disk_mb=self.disk_mb)

    async def _async_pre_start_kernel(self, **kw):
        source_folder = kw.get("cwd") or os.getcwd()
        root = Path(self.scratch_root or os.environ.get("TMPDIR", "/tmp"))
        self._scratch = root / f"k-{uuid.uuid4().hex[:8]}"
        sandbox.make_scratch(self._scratch, self.sandbox_user, self.disk_mb)
        self._memory = confinement.MemoryGroup(self.memory_mb).create()
        draw_no_pictures(self._scratch)
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
        env = {key: value for key, value in kw.get("env", {}).items() if key.startswith("NBGRADER_")}
        kw["env"] = sandbox.sandbox_env(self._scratch, env)
        kw["cwd"] = str(self._scratch)
        # The kernel's own banner and logs would land in the grader's terminal.
        kw["stdout"] = kw["stderr"] = subprocess.DEVNULL
        return command, kw

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        """Start the kernel command in its sandbox: placed there by this worker's fork server (fork_server.py),
        which saves importing the kernel's libraries again, or started there directly. A fork server that
        fails is given up, and the kernel is started directly."""
        wrap = functools.partial(sandbox.wrap, scratch=self._scratch, sandbox_user=self.sandbox_user,
                                 limits=self._limits(), launcher=self._memory.launcher())
        server = sandbox.shared_fork_server()
        if server is not None:
            holder = fork_server.Holder()
            await super()._async_launch_kernel(wrap(fork_server.HOLDER), **{**kw, **holder.popen_options()})
            if sandbox.place_through_fork_server(server, holder, self.provisioner.process, argv=kernel_cmd,
                                                 scratch=self._scratch, sandbox_user=self.sandbox_user,
                                                 limits=self._limits(), memory=self._memory, env=kw["env"]):
                return
        await super()._async_launch_kernel(wrap(kernel_cmd), **kw)

    async def _async_post_start_kernel(self, **kw):
        await super()._async_post_start_kernel(**kw)
        process = self.provisioner.process
        self._watch = confinement.Watch(process.pid, self._scratch, self.disk_mb, self._memory,
                                        stop=lambda: sandbox.kill_group(process),
                                        deadline_seconds=self.deadline_seconds).start()

    async def _async_interrupt_kernel(self):
        if not self.shutting_down:  # jupyter_client interrupts before every shutdown too
            _current.interrupts += 1
        await super()._async_interrupt_kernel()

    interrupt_kernel = _async_interrupt_kernel

    async def _async_shutdown_kernel(self, now=False, restart=False):
        with _current.watch.stage("kernel stop"):
            try:
                await super()._async_shutdown_kernel(now=now, restart=restart)
            finally:
                self._end_sandbox(restart)

    shutdown_kernel = _async_shutdown_kernel

    async def _async_wait(self, pollinterval=0.1):
        """jupyter_client's wait for the kernel's process to end after it was told to, polling first after
        1 ms and then twice as long each time, up to pollinterval (jupyter_client polls every pollinterval
        from the start): a kernel killed at shutdown is gone within milliseconds, and every submission
        waited 0.1 s for it. The caller bounds the whole wait, as before."""
        pause = 0.001
        while await self._async_is_alive():
            await asyncio.sleep(pause)
            pause = min(2 * pause, pollinterval)

    async def _async_cleanup_resources(self, restart=False):
        """jupyter_client's cleanup, which nbclient calls even when the kernel
        died (and then no shutdown is asked for): the sandbox ends here too."""
        with _current.watch.stage("kernel stop"):
            try:
                await super()._async_cleanup_resources(restart=restart)
            finally:
                self._end_sandbox(restart)

    cleanup_resources = _async_cleanup_resources

    def _end_sandbox(self, restart):
        """Stop the watch (recording why it stopped the kernel, if it did),
        kill what is left, remove the memory group and (unless the kernel
        restarts) the scratch folder."""
        watch = getattr(self, "_watch", None)
        if watch is not None:
            reason = watch.close()
            if reason and not _current.stopped:
                _current.stopped = reason
            self._watch = None
        process = getattr(self.provisioner, "process", None) if self.provisioner else None
        if process is not None:
            sandbox.kill_group(process)
        memory = getattr(self, "_memory", None)
        if memory is not None:
            memory.remove()
        scratch = getattr(self, "_scratch", None)
        if scratch is not None and not restart:
            sandbox.remove_scratch(scratch)
            self._scratch = None


STARTUP = Path(__file__).with_name("kernel_startup.py")
#: The grading kernel's IPython config (in its own profile): the inline backend makes no PNG of a figure.
KERNEL_CONFIG = "c.InlineBackend.figure_formats = set()\n"


def draw_no_pictures(scratch):
    """Set up the kernel's own IPython profile (IPYTHONDIR is scratch/.ipython, sandbox.sandbox_env)
    so that grading draws no pictures: see kernel_startup.py. scratch: Path."""
    profile = scratch / ".ipython" / "profile_default"
    (profile / "startup").mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text(KERNEL_CONFIG, encoding="utf-8")
    shutil.copy(STARTUP, profile / "startup" / "00-conv-course.py")


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
    """nbgrader's Execute with the kernel in the sandbox, keeping at most
    cell_output_bytes of each cell's output and notebook_output_bytes of the
    whole notebook's (outputs, and widget messages) as they stream in; past
    either, further output is dropped and the cell ends with one note saying
    how much (`cut_note`). What was printed and kept goes to NotebookRun."""

    cell_output_bytes = Integer(2 * 2**20, help="Output kept of one cell, bytes.").tag(config=True)
    notebook_output_bytes = Integer(16 * 2**20, help="Output kept of the whole notebook, bytes.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
        self._kept_in_cell = {}  # cell index: bytes of output it holds now
        self._running_cell = -1
        self._dropped_in_cell = {}  # cell index: bytes dropped

    def _kept_in_notebook(self):
        return sum(self._kept_in_cell.values())

    def _fits(self, size, cell_index, cleared=False):
        """Whether size more bytes of output fit the budgets of the cell (its
        output first cleared, if cleared) and of the notebook."""
        held = self._kept_in_cell.get(cell_index, 0)
        after = size if cleared else held + size
        return after <= self.cell_output_bytes and self._kept_in_notebook() - held + after <= self.notebook_output_bytes

    def _room_for(self, size, cell_index, cleared=False):
        """Whether size more bytes of output may be kept for the cell; counts
        them as printed, and as dropped if not."""
        _current.printed += size
        if self._fits(size, cell_index, cleared):
            return True
        self._drop(size, cell_index)
        return False

    def _drop(self, size, cell_index):
        _current.dropped += size
        self._dropped_in_cell[cell_index] = self._dropped_in_cell.get(cell_index, 0) + size

    def _would_drop(self, size):
        """Whether an output message of size bytes for the running cell would be dropped."""
        return not self._fits(size, self._running_cell, self.clear_before_next_output)

    async def async_start_new_kernel(self, **kwargs):
        """Start the kernel as nbclient does, timed as part of the "kernel start" stage."""
        with _current.watch.stage("kernel start"):
            return await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)

    async def async_start_new_kernel_client(self):
        """Start the kernel client as nbclient does (waiting until the kernel answers), its iopub
        channel told what the budget would drop; timed as part of the "kernel start" stage."""
        with _current.watch.stage("kernel start"):
            client = await super().async_start_new_kernel_client()
        if isinstance(client.iopub_channel, OutputBudgetChannel):
            client.iopub_channel.would_drop = self._would_drop
        return client

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _keep(self, size, cell_index):
        self._kept_in_cell[cell_index] = self._kept_in_cell.get(cell_index, 0) + size

    def process_message(self, msg, cell, cell_index):
        """nbclient's handling of one kernel message, with widget messages
        counted against the notebook's output budget (their state is kept)."""
        if "dropped_bytes" in msg:  # a stub from OutputBudgetChannel
            _current.printed += msg["dropped_bytes"]
            self._drop(msg["dropped_bytes"], cell_index)
            return None
        if msg["msg_type"].startswith("comm"):
            size = message_size(msg)
            if not self._room_for(size, cell_index):
                return None
            self._keep(size, cell_index)
        return super().process_message(msg, cell, cell_index)

    def output(self, outs, msg, display_id, cell_index):
        """Append an output as nbclient does, unless it passes the budget (then drop it)."""
        size = message_size(msg)
        cleared = self.clear_before_next_output
        if not self._room_for(size, cell_index, cleared):
            return None
        if cleared:
            self._forget_cell_output(cell_index)
        out = super().output(outs, msg, display_id, cell_index)
        self._keep(size, cell_index)  # an output widget's too (out is None then)
        return out

    def clear_output(self, outs, msg, cell_index):
        """Clear a cell's output as nbclient does; what it held no longer counts."""
        super().clear_output(outs, msg, cell_index)
        if not outs:
            self._forget_cell_output(cell_index)

    def _forget_cell_output(self, cell_index):
        self._kept_in_cell.pop(cell_index, None)

    def _update_display_id(self, display_id, msg):
        """Replace a displayed output (update_display_data) as nbclient does,
        unless the new one would not fit a cell's budget (then it is dropped)."""
        size = message_size(msg)
        if size > self.cell_output_bytes:
            _current.printed += size
            _current.dropped += size
            return
        super()._update_display_id(display_id, msg)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        """Run one cell as nbclient does; if output was dropped, end its outputs with a note."""
        self._forget_cell_output(cell_index)
        self._dropped_in_cell.pop(cell_index, None)
        self._running_cell = cell_index
        try:
            with _current.watch.stage("notebook cells"):
                return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            dropped = self._dropped_in_cell.pop(cell_index, 0)
            if dropped and cell.get("cell_type") == "code":
                cell.outputs.append(nbformat.v4.new_output("stream", name="stderr", text=cut_note(
                    dropped, self.cell_output_bytes, self.notebook_output_bytes)))

    # nbclient's synchronous wrappers call its own coroutines: wrap these instead.
    execute_cell = run_sync(async_execute_cell)


def message_size(msg):
    """Bytes an output or widget message would hold once kept: the text of its
    content (strings counted by length, with a little for each entry) and its binary buffers."""
    return content_size(msg.get("content", {})) + sum(len(buffer) for buffer in msg.get("buffers") or ())


def content_size(value):
    """Roughly the bytes of value (decoded JSON) once kept: string lengths, 16 for anything else."""
    if isinstance(value, str):
        return len(value) + 16
    if isinstance(value, dict):
        return 16 + sum(len(key) + content_size(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return 16 + sum(content_size(item) for item in value)
    return 16


def megabytes(count):
    """count bytes in words: "3.2 MB"."""
    return f"{count / 2**20:.1f} MB"


def cut_note(dropped, cell_bytes, notebook_bytes):
    """The note that ends a cell whose output was cut."""
    return (f"\n[output cut] this cell printed {megabytes(dropped)} more than the grader keeps "
            f"({megabytes(cell_bytes)} a cell, {megabytes(notebook_bytes)} a notebook); the rest was dropped\n")
