"""Where student code runs: a bubblewrap sandbox with OS resource limits.

Everything a submission executes (its notebook kernel, and the independent
integrity check) runs through `wrap()`:

    bwrap                      new mount, PID, network, IPC and UTS namespaces:
                               the file system is rebuilt from read-only
                               pieces (the system, this Python, conv_lib) plus
                               ONE writable scratch folder; no network at all
                               (only a loopback that is down); other processes
                               are invisible; the sandbox dies with the grader
      setpriv                  drop to a dedicated unprivileged user id (one
                               per grading worker), no capabilities, no new
                               privileges
        prlimit                rlimits: address space (--memory), CPU seconds,
                               processes (fork bombs), file size, open files
          python ...           the kernel or the check

and, around it all, the caps of the sandbox as a whole (confinement.py): its
scratch folder is a tmpfs of --disk MB (or watched), and its processes
together hold at most --memory MB (a memory cgroup, or a watchdog).

Where the grader runs as root with a memory cgroup, the Python process itself
comes from the worker's fork server (fork_server.py), with its libraries
already imported: bwrap, setpriv and prlimit then start a holder that waits,
and the fork server's copy joins the holder's namespaces and takes on its
user, limits and memory group (`start`). What it may see and do is the same
(tests/test_fork_server.py compares the two).

Why bubblewrap: it is a small, audited Debian package (`bubblewrap`) that
builds the sandbox from Linux namespaces without a daemon, so it works on a
plain Debian machine and in CI, where no container engine runs. rlimits are
set by util-linux's `prlimit` and `setpriv`, present on every Debian.

What the sandbox cannot see: the repository (solutions/, the gradebook, the
autograder, the other students' files), the grader's temporary folders, the
grader's environment variables. The kernel talks to the grader over ZeroMQ
`ipc` sockets (Unix socket files in the scratch folder), which work without
any network.

Run as root (CI, a grading server), the sandbox switches to user ids
`UID_BASE + worker`; run as an ordinary user, bwrap maps the user into a new
user namespace instead, and the process limit then counts that user's own
processes too.
"""

from __future__ import annotations

import fcntl
import os
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import conv_lib

from . import confinement, fork_server

UID_BASE = 61000
"""User ids UID_BASE, UID_BASE + 1, ... run the sandboxes of workers 0, 1, ...
(when the grader runs as root). Nothing else on the machine should use them."""

LOCAL_SLOTS = range(0, 64)
"""Worker numbers of the local pools (local_pool.py); cluster.py's Dask workers take theirs after them."""
SLOT_FOLDER = Path(tempfile.gettempdir()) / "conv-course-slots"

SYSTEM_PATHS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")


@dataclass(frozen=True)
class Limits:
    """The OS limits of one sandbox.

    memory_mb: memory of all the sandbox's processes together (a cgroup or
        a watchdog, confinement.py), and address-space limit of each (RLIMIT_AS);
    cpu_seconds: CPU time of each process (RLIMIT_CPU), then SIGXCPU/SIGKILL;
    processes: processes and threads of the sandbox's user (RLIMIT_NPROC);
    file_mb: largest file it may write (RLIMIT_FSIZE);
    open_files: file descriptors (RLIMIT_NOFILE);
    disk_mb: the scratch folder, all files together (and
        confinement.files_allowed(disk_mb) files and folders).
    """

    memory_mb: int = 2048
    cpu_seconds: int = 600
    processes: int = 48
    file_mb: int = 64
    open_files: int = 256
    disk_mb: int = 256


class SandboxUnavailable(RuntimeError):
    """The machine cannot build the sandbox; the grader refuses to run student code."""


def claim_slot(numbers, preferred=None):
    """A worker number (hence a sandbox user, UID_BASE + number) that no other grading process on this
    machine holds, so that two grading runs at once never share a sandbox user (whose process limit
    and files they would share): a lock on a file of SLOT_FOLDER, which the kernel releases when this
    process ends, however it ends. numbers: the range to take from, `preferred` first if given.
    Returns (number, the open lock file, to keep open), or (None, None) when all are taken.
    Not as root, the sandbox maps the user into a namespace of its own: the preferred number
    (or the first) is returned without a lock."""
    if not running_as_root():
        return (numbers[0] if preferred is None else preferred), None
    SLOT_FOLDER.mkdir(mode=0o755, parents=True, exist_ok=True)
    order = ([preferred] if preferred in numbers else []) + [n for n in numbers if n != preferred]
    for number in order:
        handle = open(SLOT_FOLDER / f"{number}.lock", "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        return number, handle
    return None, None


def missing_tools():
    """Names of the commands the sandbox needs and this machine lacks."""
    return [tool for tool in ("bwrap", "setpriv", "prlimit") if shutil.which(tool) is None]


def check_available():
    """Raise SandboxUnavailable, saying how to fix it, unless a trivial sandbox runs."""
    missing = missing_tools()
    if missing:
        raise SandboxUnavailable(
            f"the sandbox for student code needs {', '.join(missing)}, missing on this machine: "
            "install Debian's packages bubblewrap and util-linux (`apt-get install bubblewrap`; "
            "CI's .ci/run does it)"
        )
    confinement.remove_leftovers()
    scratch = make_scratch(confinement.temporary_folder("check"), UID_BASE)
    argv = wrap([sys.executable, "-c", "import numpy, conv_lib"], scratch=scratch, sandbox_user=UID_BASE)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SandboxUnavailable(f"the sandbox for student code does not start: {error}") from error
    finally:
        remove_scratch(scratch)
    if done.returncode != 0:
        raise SandboxUnavailable(
            "the sandbox for student code does not start (bwrap needs user namespaces, "
            f"or root): {done.stderr.strip()[-400:]}"
        )


def readable_paths():
    """Folders the sandbox sees read-only: the system, this Python and its
    packages, and conv_lib's own folder (an editable install points into the
    repository; only the package folder is shown, not its neighbours)."""
    paths = [Path(p) for p in SYSTEM_PATHS]
    paths += [Path(sys.base_prefix), Path(sys.prefix), Path(conv_lib.__file__).parent]
    seen, result = set(), []
    for path in paths:
        if path.exists() and str(path) not in seen:
            seen.add(str(path))
            result.append(path)
    return result


def precompile_course_code():
    """Write the bytecode (__pycache__) of conv_lib's modules, which the sandbox shows read-only and which
    its processes therefore compile again each time they import them (sandbox_env sets
    PYTHONDONTWRITEBYTECODE): about 0.3 s of every kernel and every check, more when a test cell imports
    conv_lib afresh. Written by the grader, never by sandboxed code. Returns whether it could be written
    (a read-only installation keeps compiling: slower, not wrong)."""
    import compileall

    try:
        return bool(compileall.compile_dir(Path(conv_lib.__file__).parent, quiet=2, workers=1))
    except OSError:
        return False


def _bind_options(paths, bind="--ro-bind", created=None):
    """bwrap options showing paths at their own place (read-only by default).
    The folders leading to them are created world-traversable (bwrap would
    otherwise make them 0700, locking the sandbox user out of its own Python
    under /root, say). created: parents already made, shared between calls."""
    options = []
    created = set() if created is None else created
    for path in paths:
        for parent in reversed(path.parents[:-1]):
            if str(parent) not in created:
                created.add(str(parent))
                options += ["--perms", "0755", "--dir", str(parent)]
        if path.is_symlink() and str(path) in SYSTEM_PATHS:
            options += ["--symlink", os.readlink(path), str(path)]
        else:
            options += [bind, str(path), str(path)]
    return options


def running_as_root():
    return os.geteuid() == 0


def _user_process_count():
    """Processes and threads of the current user, for the non-root case."""
    uid, count = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                pass
    return count


def wrap(argv, *, scratch, sandbox_user, limits=Limits(), writable=(), launcher=()):
    """The command line that runs argv inside the sandbox.

    argv: the command (absolute paths, or relative to scratch);
    scratch: the one writable folder, also the working directory and HOME
        (its .tmp subfolder, created by make_scratch, is the sandbox's /tmp);
    sandbox_user: the user id to run as (used when the grader is root);
    writable: further folders to bind writable at their own paths;
    launcher: a command prefix run before bwrap (MemoryGroup.launcher()).
    Returns a list of str for subprocess.
    """
    scratch = Path(scratch)
    created = {"/tmp"}
    command = [
        *launcher,
        "bwrap",
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent", "--new-session",
        "--hostname", "sandbox",
        "--proc", "/proc", "--dev", "/dev",
        # /tmp first: whatever is bound below /tmp (the scratch folder, or this
        # Python when the venv lives in a clone under /tmp) must come after it.
        "--bind", str(scratch / ".tmp"), "/tmp",
        *_bind_options(readable_paths(), created=created),
        *_bind_options([scratch, *map(Path, writable)], bind="--bind", created=created),
    ]
    command += ["--chdir", str(scratch)]
    processes = limits.processes
    if confinement.mechanisms().memory == "watchdog":
        processes = min(processes, confinement.WATCHED_PROCESSES)
    bwrap_at = len(launcher)
    if running_as_root():
        command += [
            "--",
            "setpriv", f"--reuid={sandbox_user}", f"--regid={sandbox_user}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs",
        ]
    else:
        command[bwrap_at + 1:bwrap_at + 1] = ["--unshare-user"]
        processes += _user_process_count()
        command += ["--", "setpriv", "--no-new-privs"]
    options = {resource.RLIMIT_AS: "--as", resource.RLIMIT_CPU: "--cpu", resource.RLIMIT_NPROC: "--nproc",
               resource.RLIMIT_FSIZE: "--fsize", resource.RLIMIT_NOFILE: "--nofile", resource.RLIMIT_CORE: "--core"}
    command += ["--", "prlimit", *[f"{options[kind]}={value}" for kind, value in rlimits(limits, processes)],
                "--", *[str(part) for part in argv]]
    return command


def rlimits(limits, processes):
    """[(resource.RLIMIT_*, value)] of each sandboxed process: its address space (limits.memory_mb), CPU
    seconds, processes and threads of its user (processes), largest file, open files, and no core dumps."""
    megabyte = 1024 * 1024
    return [(resource.RLIMIT_AS, limits.memory_mb * megabyte), (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_NPROC, processes), (resource.RLIMIT_FSIZE, limits.file_mb * megabyte),
            (resource.RLIMIT_NOFILE, limits.open_files), (resource.RLIMIT_CORE, 0)]


def sandbox_env(scratch, extra=None):
    """The whole environment of sandboxed code: nothing of the grader's leaks in."""
    scratch = str(scratch)
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": scratch,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": os.path.join(scratch, ".matplotlib"),
        "IPYTHONDIR": os.path.join(scratch, ".ipython"),
        "JUPYTER_CONFIG_DIR": os.path.join(scratch, ".jupyter"),
        "JUPYTER_DATA_DIR": os.path.join(scratch, ".local", "share", "jupyter"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    env.update(extra or {})
    return env


def make_scratch(path, sandbox_user, disk_mb=Limits.disk_mb):
    """Create the sandbox's writable folder, owned by its user when we are
    root, and bound it to disk_mb MB: as root it is a tmpfs of that size
    (confinement.mechanisms().disk), else a Watch measures it.
    path: the folder (created); returns it as a Path."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if confinement.mechanisms().disk == "tmpfs" and not os.path.ismount(path):
        confinement.mount_scratch_space(path, disk_mb, sandbox_user if running_as_root() else os.getuid())
    (path / ".tmp").mkdir(exist_ok=True)
    seed_font_list(path / ".matplotlib")
    give_to_sandbox(path, sandbox_user)
    return path


@cache
def font_list():
    """matplotlib's list of this machine's fonts (its fontlist-v*.json, made here once if missing), or None."""
    try:
        import matplotlib
        from matplotlib import font_manager  # noqa: F401 - loading it writes the list if missing
    except ImportError:
        return None
    found = sorted(Path(matplotlib.get_cachedir()).glob("fontlist-v*.json"))
    return found[-1] if found else None


def seed_font_list(folder):
    """Copy matplotlib's font list into a sandbox's MPLCONFIGDIR (folder, a Path): without it, each sandboxed
    process that imports matplotlib would search the machine's fonts again, about half a second each time."""
    source = font_list()
    if source is not None:
        folder.mkdir(exist_ok=True)
        shutil.copy(source, folder / source.name)


def give_to_sandbox(path, sandbox_user):
    """Let the sandbox user write path (a folder or file) and what it holds."""
    if not running_as_root():
        return
    for root, folders, files in os.walk(path):
        os.chown(root, sandbox_user, sandbox_user)
        for name in files:
            os.chown(os.path.join(root, name), sandbox_user, sandbox_user)
    if Path(path).is_file():
        os.chown(path, sandbox_user, sandbox_user)


def remove_scratch(path):
    """Delete a scratch folder whatever the sandbox left in it (read-only
    files too), its scratch space and those of the folders it holds unmounted
    first (confinement.remove_folder)."""
    confinement.remove_folder(path)


def run(argv, *, scratch, sandbox_user, limits=Limits(), timeout, env=None, keep_lines=()):
    """Run argv in the sandbox with scratch as its folder; wait at most timeout s.

    keep_lines: prefixes of stderr lines that must reach the caller wherever
        they were written (a tripwire's reports): kept whole, however much
        came after them.
    Returns (returncode or None when it was killed for the timeout, stderr
    text): the kept lines, then the last STDERR_TAIL characters. The grader
    reads at most STDERR_CAP bytes of stderr; a sandbox that writes more is
    stopped. When it passed a cap of the sandbox as a whole (its scratch
    space, its processes' memory together, its stderr) it is stopped, and the
    text ends with a line STOPPED + the reason (confinement.stop_message).
    """
    memory = confinement.MemoryGroup(limits.memory_mb).create()
    try:
        process, reader = start(argv, scratch=scratch, sandbox_user=sandbox_user, limits=limits, env=env,
                                memory=memory, keep_lines=keep_lines)
        watch = confinement.Watch(process.pid, scratch, limits.disk_mb, memory, stop=lambda: kill_group(process)).start()
        if wait_for_exit(process, timeout):
            code = process.returncode
        else:
            kill_group(process)
            process.wait()
            code = None
        reader.join()
        reason = watch.close()
    finally:
        memory.remove()
    stderr = reader.text()
    if reader.flooded:
        stderr += f"\n{STOPPED}it wrote more than {STDERR_CAP // 1_000_000} MB of error output"
    elif reason:
        stderr += "\n" + STOPPED + confinement.stop_message(reason, limits.memory_mb, limits.disk_mb)
    return code, stderr


_fork_server = None
_fork_server_lock = threading.Lock()


def shared_fork_server():
    """This process's fork server (fork_server.ForkServer: one per grading worker), or None where it is not
    wanted (fork_server.wanted(), asked each time: the memory mechanism a test forces, say) or has failed."""
    global _fork_server
    if _fork_server is False or not fork_server.wanted():
        return None
    with _fork_server_lock:
        if _fork_server is None:
            _fork_server = fork_server.ForkServer(fork_server_environment)
        return _fork_server or None


def fork_server_environment(home):
    """The fork server's environment: a sandboxed process's (sandbox_env), with home (a Path) as its home
    folder, holding matplotlib's font list as a sandbox's does."""
    seed_font_list(home / ".matplotlib")
    return sandbox_env(home)


def give_up_fork_server(error):
    """Stop using this process's fork server after it failed (error: why); its sandboxed processes start
    directly from now on, which is slower, never less safe."""
    global _fork_server
    with _fork_server_lock:
        if _fork_server:
            _fork_server.close()
            print(f"conv-course: the fork server failed ({error}); sandboxed processes now start directly",
                  file=sys.stderr, flush=True)
        _fork_server = False


def start(argv, *, scratch, sandbox_user, limits, env, memory, keep_lines=()):
    """Start argv in the sandbox (run's options; memory: its confinement.MemoryGroup, made) with stdin and
    stdout on /dev/null. Returns (the subprocess.Popen of the sandbox, a BoundedStderr reading its stderr).
    Through this worker's fork server (fork_server.py) when it has one, else directly; a fork server
    that fails is given up for this run, and the process is started directly."""
    env = sandbox_env(scratch, env)

    def launch(command, options):
        """(the sandbox's Popen, the read end of its stderr pipe, the write end, for a placed process)."""
        stderr_read, stderr_write = os.pipe()
        try:
            process = subprocess.Popen(wrap(command, scratch=scratch, sandbox_user=sandbox_user, limits=limits,
                                            launcher=memory.launcher()),
                                       cwd=scratch, env=env, stderr=stderr_write, start_new_session=True, **options)
        except BaseException:
            os.close(stderr_read)
            os.close(stderr_write)
            raise
        return process, stderr_read, stderr_write

    server = shared_fork_server()
    if server is not None:
        holder = fork_server.Holder()
        process, stderr_read, stderr_write = launch(fork_server.HOLDER, holder.popen_options())
        try:
            placed = place_through_fork_server(server, holder, process, argv=argv, scratch=scratch,
                                               sandbox_user=sandbox_user, limits=limits, memory=memory, env=env,
                                               stderr_fd=stderr_write)
        finally:
            os.close(stderr_write)
        if placed:
            return process, BoundedStderr(open(stderr_read, "rb"), process, tuple(keep_lines))
        os.close(stderr_read)
    process, stderr_read, stderr_write = launch(argv, {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL})
    os.close(stderr_write)
    return process, BoundedStderr(open(stderr_read, "rb"), process, tuple(keep_lines))


def place_through_fork_server(server, holder, process, *, argv, scratch, sandbox_user, limits, memory, env,
                              stderr_fd=None):
    """Have the fork server run argv in the sandbox `process` (the Popen of bwrap running
    fork_server.HOLDER, started with holder.popen_options()) with the sandbox's working folder, user,
    rlimits, memory group and environment, and stderr_fd as its stderr (None: /dev/null). Returns whether
    it did; if not, the sandbox is ended and the fork server given up (give_up_fork_server), and the
    caller starts argv directly."""
    try:
        holder.place(server, process.pid, argv=argv, cwd=scratch, env=env, sandbox_user=sandbox_user,
                     rlimits=rlimits(limits, limits.processes), memory_procs=memory.procs_file(),
                     stdout_fd=None, stderr_fd=stderr_fd)
        return True
    except fork_server.Unavailable as error:
        kill_group(process)
        process.wait()
        give_up_fork_server(error)
        return False


STDERR_TAIL = 2000
"""Characters of a sandbox's stderr that run() returns (its end)."""
STDERR_CAP = 4_000_000
"""Bytes of a sandbox's stderr the grader reads before stopping it."""
KEPT_LINES = 200
"""Marked lines (run's keep_lines) kept at most."""


class BoundedStderr:
    """Reads a sandboxed process's stderr on a thread, holding at most
    STDERR_TAIL characters of its end and KEPT_LINES lines that start with
    one of keep (bytes never pile up in the grader, however much is written);
    past STDERR_CAP bytes it stops the sandbox (flooded)."""

    def __init__(self, stream, process, keep):
        self.stream, self.process, self.keep = stream, process, tuple(prefix.encode() for prefix in keep)
        self.tail, self.kept, self.partial, self.total, self.flooded = b"", [], b"", 0, False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        stream = self.stream
        while chunk := stream.read1(65536):
            self.total += len(chunk)
            self.tail = (self.tail + chunk)[-4 * STDERR_TAIL:]
            if self.keep:
                lines = (self.partial + chunk).split(b"\n")
                self.partial = lines.pop()[-4096:]
                for line in lines:
                    if line.startswith(self.keep) and len(self.kept) < KEPT_LINES:
                        self.kept.append(line[:1000])
            if self.total > STDERR_CAP and not self.flooded:
                self.flooded = True
                kill_group(self.process)
        stream.close()

    def join(self):
        self.thread.join(timeout=30)

    def text(self):
        """The kept lines, then the end of stderr, as text."""
        tail = self.tail.decode(errors="replace")[-STDERR_TAIL:]
        kept = [line.decode(errors="replace") for line in self.kept]
        return "\n".join([*kept, tail]) if kept else tail


STOPPED = "[sandbox stopped] "
"""How run()'s stderr tail says the sandbox passed one of its caps."""


def wait_for_exit(process, timeout):
    """Wait up to timeout seconds for a subprocess.Popen to end; whether it did (then it is reaped).
    Woken by the process's end itself (a pidfd), where Popen.wait(timeout) polls with pauses of up to
    50 ms, which each sandboxed check waited out at its end; Popen.wait where pidfds are missing."""
    try:
        handle = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # no pidfd here, or the process is already reaped
        try:
            process.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        poller = select.poll()
        poller.register(handle, select.POLLIN)
        ended = bool(poller.poll(max(timeout, 0) * 1000))
    finally:
        os.close(handle)
    if ended:
        process.wait()
    return ended


def kill_group(process):
    """SIGKILL a sandbox started in its own session; bwrap's --die-with-parent
    and the PID namespace take every process inside with it."""
    try:
        os.killpg(process.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass
