"""What one sandbox may use as a whole: its scratch space and its memory.

rlimits (sandbox.py) bound each process on its own: its address space, its
largest file. They leave the whole sandbox unbounded: a notebook can fill
the disk with many small files, or fork children that each hold memory up to
the per-process limit. So each sandbox gets two caps of its own, enforced by
the best mechanism the machine offers, chosen at run time (`mechanisms()`):

    its scratch folder (disk)   tmpfs: as root, the folder is a tmpfs mounted
                                by the grader, of --disk MB and a bounded
                                number of files; writing past it fails with
                                "no space left" inside the sandbox only.
                                watchdog: otherwise, the folder is measured a
                                few times a second and the sandbox stopped
                                past the cap (it may overshoot by what it
                                writes in that moment).
    its memory (all processes)  cgroup v1: as root on a machine with the
                                cgroup v1 memory controller (this project's
                                CI), each sandbox runs in its own memory
                                cgroup of --memory MB; past it the kernel's
                                OOM killer strikes inside that group only.
                                watchdog: otherwise, the proportional resident
                                memory (PSS, psutil) of the sandbox's process
                                tree is summed a few times a second and the
                                sandbox stopped past the cap; fewer processes
                                are allowed (WATCHED_PROCESSES).

A `Watch` thread polls a running sandbox, stops it at the first cap it passes
(and at its deadline, if it has one), and says which (`Watch.reason`), so the
grader can tell the student the truth.

Leftovers: the grader unmounts each tmpfs and removes each cgroup when its
sandbox ends (sandbox.remove_scratch, MemoryGroup.remove), and its folders in
/tmp (temporary_folder: a run's work, a cluster worker's course, the sandbox
check's scratch, a fork server's home) when it is done with them. A grader killed outright leaves
them behind; each mount, cgroup and folder is named after the process that
made it (its pid and start time), and `remove_leftovers()`, run when a
grading run or a worker starts, removes those whose maker is gone.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

TAG = "conv-course-sandbox"
"""The name every mount and cgroup of a sandbox starts with."""

FILES_PER_MB = 32
"""Files and folders a scratch space may hold per MB of its size (many small files fill a disk too)."""

WATCHED_PROCESSES = 24
"""Processes and threads a sandbox may have when only the memory watchdog guards it."""

POLL_SECONDS = 0.2
FULL_MARGIN = 64 * 1024
"""A tmpfs with less free space than this is full: a write past the cap left it so."""
MEGABYTE = 1024 * 1024
CGROUP_V1_MEMORY = Path("/sys/fs/cgroup/memory")

_serial = itertools.count()


@dataclass(frozen=True)
class Mechanisms:
    """How this machine caps each sandbox: disk "tmpfs" or "watchdog";
    memory "cgroup v1" or "watchdog"."""

    disk: str
    memory: str

    def describe(self, memory_mb, disk_mb, files):
        """One line for the run's summary, e.g. "memory: 2048 MB for all of a
        notebook's processes together (cgroup v1); disk: 256 MB and 8192 files (tmpfs)"."""
        return (f"memory: {memory_mb} MB for all of a notebook's processes together ({self.memory}); "
                f"disk: {disk_mb} MB and {files} files in its folder ({self.disk})")


@functools.lru_cache(maxsize=None)
def mechanisms():
    """The Mechanisms this machine allows (probed once per process)."""
    root = os.geteuid() == 0
    disk = "tmpfs" if root and shutil.which("mount") and shutil.which("umount") else "watchdog"
    memory = "cgroup v1" if root and _cgroup_v1_base() is not None else "watchdog"
    return Mechanisms(disk, memory)


def files_allowed(disk_mb):
    """How many files and folders a scratch space of disk_mb MB may hold."""
    return max(1024, disk_mb * FILES_PER_MB)


def owner_name():
    """This process's part of the names of its mounts and cgroups: TAG-<pid>-<start time>."""
    return f"{TAG}-{os.getpid()}-{_start_time(os.getpid())}"


def _start_time(pid):
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or "" if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return text.rsplit(")", 1)[1].split()[19]


def owner_of(name):
    """(pid, start time) of the process named in a TAG-<pid>-<start>[-n] name (owner_name), or None."""
    parts = name[len(TAG) + 1:].split("-")
    if len(parts) < 2 or not parts[0].isdigit():
        return None
    return int(parts[0]), parts[1]


def _owner_is_gone(name):
    """Whether the process named in a TAG-<pid>-<start>[-n] name no longer runs."""
    owner = owner_of(name)
    return owner is not None and _start_time(owner[0]) != owner[1]


# -- the scratch space ------------------------------------------------------


def mount_scratch_space(path, disk_mb, owner_uid):
    """Mount a tmpfs of disk_mb MB (and files_allowed(disk_mb) files) on the
    folder path, owned by owner_uid. Raises OSError saying why it failed."""
    options = (f"size={disk_mb}m,nr_inodes={files_allowed(disk_mb)},mode=0755,"
               f"uid={owner_uid},gid={owner_uid},nosuid,nodev")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, owner_name(), str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise OSError(f"could not give the sandbox its {disk_mb} MB scratch space at {path}: {done.stderr.strip()}")


def scratch_mounts():
    """[(mount point, source)] of the sandboxes' tmpfs mounts, deepest first."""
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        if " - " not in line:
            continue
        source = line.split(" - ", 1)[1].split()[1]
        if source.startswith(TAG):
            found.append((fields[4].replace("\\040", " "), source))
    return sorted(found, key=lambda mount: -len(mount[0]))


def unmount_under(path):
    """Unmount every sandbox scratch space at or below path (a folder)."""
    prefix = os.path.realpath(path)
    for point, _ in scratch_mounts():
        if point == prefix or point.startswith(prefix + "/"):
            subprocess.run(["umount", "--lazy", point], capture_output=True)


def disk_full(path, disk_mb):
    """Why the scratch space at path is past its cap ("bytes" or "files"), or "".
    A tmpfs refuses to grow past it; the watchdog measures the folder."""
    if os.path.ismount(path):
        status = os.statvfs(path)
        if status.f_ffree == 0:
            return "files"
        return "bytes" if status.f_bavail * status.f_frsize < FULL_MARGIN else ""
    used, count = _measure(path, disk_mb * MEGABYTE, files_allowed(disk_mb))
    if count > files_allowed(disk_mb):
        return "files"
    return "bytes" if used > disk_mb * MEGABYTE else ""


def _measure(path, byte_cap, file_cap):
    """(bytes on disk, files and folders) under path, counting no further than just past either cap."""
    used = count = 0
    folders = [str(path)]
    while folders and used <= byte_cap and count <= file_cap:
        try:
            entries = list(os.scandir(folders.pop()))
        except OSError:
            continue
        for entry in entries:
            count += 1
            try:
                used += entry.stat(follow_symlinks=False).st_blocks * 512
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
            except OSError:
                pass
    return used, count


# -- memory -----------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _cgroup_v1_base():
    """This process's own cgroup v1 memory folder if a sandbox's group can be
    made in it (probed by making and removing one), else None."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, relative = line.split(":", 2)
        if "memory" in controllers.split(","):
            base = CGROUP_V1_MEMORY / relative.lstrip("/")
            probe = base / f"{owner_name()}-probe"
            try:
                probe.mkdir()
                (probe / "memory.limit_in_bytes").write_text(str(64 * MEGABYTE))
                probe.rmdir()
            except OSError:
                return None
            return base
    return None


class MemoryGroup:
    """The memory cap of one sandbox, all its processes together.

    With a cgroup (mechanisms().memory == "cgroup v1"): create() makes the
    group, launcher() is the command prefix that puts the sandbox in it,
    exceeded() says whether the OOM killer struck in it. With the watchdog:
    exceeded() sums the PSS of the sandbox's process tree."""

    def __init__(self, memory_mb):
        self.memory_mb = memory_mb
        self.mechanism = mechanisms().memory
        self.path = None

    def create(self):
        """Make the cgroup (nothing for the watchdog). Returns self."""
        if self.mechanism != "cgroup v1":
            return self
        self.path = _cgroup_v1_base() / f"{owner_name()}-{next(_serial)}"
        self.path.mkdir()
        limit = str(self.memory_mb * MEGABYTE)
        (self.path / "memory.limit_in_bytes").write_text(limit)
        swap = self.path / "memory.memsw.limit_in_bytes"
        if swap.exists():
            swap.write_text(limit)  # memory and swap together: no escape into swap
        return self

    def launcher(self):
        """The command prefix that runs a command inside the group (argv list; [] for the watchdog)."""
        if self.path is None:
            return []
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', self.procs_file()]

    def procs_file(self):
        """The group's cgroup.procs file, which a process joins the group by writing 0 to (None for the watchdog)."""
        return None if self.path is None else str(self.path / "cgroup.procs")

    def exceeded(self, root_pid):
        """Whether the sandbox's processes together passed the cap (the cgroup's
        OOM killer struck, or their PSS sum is over it). root_pid: the sandbox's first process."""
        if self.path is not None:
            try:
                control = dict(line.split() for line in (self.path / "memory.oom_control").read_text().splitlines())
            except (OSError, ValueError):
                return False
            return int(control.get("oom_kill", 0)) > 0 or control.get("under_oom") == "1"
        return tree_memory(root_pid) > self.memory_mb * MEGABYTE

    def kill(self):
        """SIGKILL every process in the group."""
        if self.path is None:
            return
        try:
            pids = (self.path / "cgroup.procs").read_text().split()
        except OSError:
            return
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError, ValueError):
                pass

    def remove(self, seconds=5.0):
        """Kill what is left in the group and remove it, retrying for up to `seconds` while the kernel
        reaps the killed processes (first after 5 ms, then twice as long each time, at most 0.1 s: the
        group is usually empty within a few ms, and a submission waits for it)."""
        if self.path is None:
            return
        deadline, pause = time.monotonic() + seconds, 0.005
        while True:
            self.kill()
            try:
                self.path.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(pause)
                pause = min(2 * pause, 0.1)
        self.path = None


def tree_memory(root_pid):
    """Bytes of memory the process root_pid and its descendants hold, each
    shared page counted once (their PSS, psutil), or their RSS where PSS
    cannot be read."""
    import psutil

    try:
        root = psutil.Process(root_pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        try:
            try:
                total += process.memory_full_info().pss
            except (psutil.AccessDenied, AttributeError):
                total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


def temporary_folder(kind):
    """A new folder in the machine's temporary folder for this grading process, named
    TAG-<pid>-<start time>-<kind>-<random> (owner_name; kind says what it holds: "work", "check", "cluster", "fork-server"),
    so that remove_leftovers removes it should this process be killed before it does. Mode 0700."""
    return Path(tempfile.mkdtemp(prefix=f"{owner_name()}-{kind}-"))


def remove_folder(path):
    """Delete a folder whatever a sandbox left in it (read-only files too), the
    scratch spaces mounted at or below it unmounted first."""
    unmount_under(path)

    def make_writable_and_retry(function, name, _error):
        try:
            os.chmod(os.path.dirname(name), stat.S_IRWXU)
            os.chmod(name, stat.S_IRWXU)
            function(name)
        except OSError:
            pass

    shutil.rmtree(path, onerror=make_writable_and_retry)


def remove_leftovers():
    """Unmount the scratch spaces, remove the cgroups and the temporary folders
    (temporary_folder) whose maker is gone (a grader killed outright), and the
    folders those spaces were mounted on when nothing is left in them. Returns
    how many were removed."""
    removed = 0
    for point, source in scratch_mounts():
        if _owner_is_gone(source) and subprocess.run(["umount", "--lazy", point], capture_output=True).returncode == 0:
            removed += 1
            try:
                os.rmdir(point)  # empty, unless something was there before the space was mounted on it
            except OSError:
                pass
    for folder in Path(tempfile.gettempdir()).glob(f"{TAG}-*"):
        try:
            mine = not folder.is_symlink() and folder.is_dir() and folder.stat().st_uid == os.geteuid()
        except OSError:
            continue
        if mine and _owner_is_gone(folder.name):
            remove_folder(folder)
            removed += 1
    base = _cgroup_v1_base() if mechanisms().memory == "cgroup v1" else None
    for group in base.glob(f"{TAG}-*") if base is not None else ():
        if _owner_is_gone(group.name):
            try:
                group.rmdir()
                removed += 1
            except OSError:
                pass
    return removed


# -- the watch --------------------------------------------------------------


class Watch:
    """A thread that polls a running sandbox and stops it at the first cap it
    passes: its scratch space (disk_full), its memory (MemoryGroup) or its
    deadline (seconds after start; 0 for none).

    reason: "" while none was passed, else "disk-bytes", "disk-files",
    "memory" or "deadline". stop(): called once to stop the sandbox."""

    def __init__(self, root_pid, scratch, disk_mb, memory, stop, deadline_seconds=0.0):
        self.root_pid, self.scratch, self.disk_mb, self.memory = root_pid, Path(scratch), disk_mb, memory
        self.stop, self.deadline_seconds = stop, deadline_seconds
        self.reason = ""
        self._started = time.monotonic()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="sandbox-watch")

    def start(self):
        self._thread.start()
        return self

    def passed_cap(self):
        """The cap the sandbox has passed now ("" for none), deadline excepted."""
        disk = disk_full(self.scratch, self.disk_mb)
        if disk:
            return f"disk-{disk}"
        return "memory" if self.memory.exceeded(self.root_pid) else ""

    def _watch(self):
        while not self._closing.wait(POLL_SECONDS):
            reason = self.passed_cap()
            if not reason and self.deadline_seconds and time.monotonic() - self._started > self.deadline_seconds:
                reason = "deadline"
            if reason:
                self.reason = reason
                self.memory.kill()
                self.stop()
                return

    def close(self):
        """Stop watching; a cap passed in the last moment still counts. Returns reason."""
        self._closing.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if not self.reason:
            self.reason = self.passed_cap()
        return self.reason


def stop_message(reason, memory_mb, disk_mb):
    """What the student is told when a Watch stopped their sandbox for reason
    (disk-bytes, disk-files or memory)."""
    if reason == "disk-bytes":
        return f"the notebook wrote more than {disk_mb} MB into its folder (--disk {disk_mb}), so it was stopped"
    if reason == "disk-files":
        return (f"the notebook made more than {files_allowed(disk_mb)} files and folders in its folder "
                f"(the limit that comes with --disk {disk_mb}), so it was stopped")
    return f"the notebook's processes used more than {memory_mb} MB together (--memory {memory_mb}), so they were stopped"
