"""Student code runs in a sandbox that cannot see, reach or break anything else.

Each test runs a few lines of Python through autograder.sandbox.run, as the
grader runs a kernel or the independent check, and asserts what the OS
allowed: the course's secrets are out of sight, nothing outside the scratch
folder is writable, there is no network, and memory, processes and time are
capped. Without bubblewrap these tests skip, except in CI (CI set), where
.ci/run installs it and its absence is a failure.
"""

import os
import select
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sandbox_users import sandbox_user

from autograder import confinement, sandbox
from autograder.release import REPO

# A user of this test process alone: sandbox_processes() finds the sandbox's processes by it.
USER = sandbox_user()


pytestmark = pytest.mark.usefixtures("needs_bubblewrap")


@pytest.fixture
def scratch(tmp_path):
    folder = sandbox.make_scratch(tmp_path / "scratch", USER)
    os.chmod(tmp_path, 0o755)
    yield folder
    sandbox.remove_scratch(folder)


def run_python(code, scratch, limits=sandbox.Limits(), timeout=60):
    """Run code in the sandbox; returns (exit code, what it printed)."""
    code, printed, _ = run_and_say_why(code, scratch, limits, timeout)
    return code, printed


def test_the_course_and_its_secrets_are_out_of_sight(scratch):
    neighbour = scratch.parent / "other_student.ipynb"  # beside the scratch folder
    neighbour.write_text("{}")
    secrets = [REPO / "solutions", REPO / "autograder", REPO / "autograder" / "gradebook.db", REPO / "tests",
               REPO / "README.md", neighbour, Path.home() / ".bashrc"]
    code, printed = run_python(f"""
        import os
        for path in {[str(p) for p in secrets]!r}:
            print(path, os.path.exists(path))
        print("beside the scratch folder:", sorted(os.listdir({str(scratch.parent)!r})))
        """, scratch)
    assert code == 0, printed
    assert "True" not in printed, printed
    assert f"beside the scratch folder: ['{scratch.name}']" in printed


def test_numpy_and_conv_lib_are_there_to_use(scratch):
    code, printed = run_python("import numpy, conv_lib\nprint(conv_lib.corr2d(numpy.eye(3), numpy.ones((2, 2))).tolist())\n",
                               scratch)
    assert (code, printed.strip()) == (0, "[[2.0, 1.0], [1.0, 2.0]]")


def test_only_the_scratch_folder_is_writable(scratch):
    code, printed = run_python(f"""
        import os
        open("mine.txt", "w").write("fine")
        open("/tmp/mine.txt", "w").write("fine")
        for path in ["{REPO}/conv_lib/planted.py", "{sys.prefix}/planted.py", "/usr/planted", "/etc/planted"]:
            try:
                open(path, "w")
                print("WROTE", path)
            except OSError as error:
                print("refused", type(error).__name__)
        """, scratch)
    assert code == 0, printed
    assert "WROTE" not in printed
    assert (scratch / "mine.txt").read_text() == "fine"
    assert not (REPO / "conv_lib" / "planted.py").exists()


def test_there_is_no_network_not_even_to_this_machine(scratch):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    code, printed = run_python(f"""
        import socket
        for address in [("127.0.0.1", {port}), ("1.1.1.1", 80)]:
            try:
                socket.create_connection(address, timeout=3)
                print("CONNECTED", address)
            except OSError as error:
                print("refused", type(error).__name__)
        """, scratch)
    # A connection that had got through would wait in the listener's backlog.
    waiting, _, _ = select.select([listener], [], [], 0)
    listener.close()
    assert code == 0, printed
    assert "CONNECTED" not in printed
    assert waiting == []


def test_it_runs_as_an_unprivileged_user_without_capabilities(scratch):
    code, printed = run_python("import os\nprint(os.getuid(), open('/proc/self/status').read().split('CapEff:')[1].split()[0])\n",
                               scratch)
    expected_uid = USER if os.geteuid() == 0 else os.getuid()
    assert (code, printed.split()) == (0, [str(expected_uid), "0000000000000000"])


def test_the_grader_environment_does_not_leak_in(scratch, monkeypatch):
    monkeypatch.setenv("CONV_COURSE_SECRET", "do-not-tell")
    code, printed = run_python("import os\nprint(sorted(os.environ))\n", scratch)
    assert code == 0
    assert "CONV_COURSE_SECRET" not in printed


def test_a_memory_bomb_meets_memory_error(scratch):
    code, printed = run_python("""
        try:
            hog = bytearray(8 * 2**30)
            print("ALLOCATED")
        except MemoryError:
            print("MemoryError")
        """, scratch, limits=sandbox.Limits(memory_mb=1024))
    assert (code, printed.strip()) == (0, "MemoryError")


def test_a_fork_bomb_runs_out_of_processes(scratch):
    code, printed = run_python("""
        import os, time
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                children += 1
        except OSError as error:
            print("stopped after", children, type(error).__name__)
        """, scratch, limits=sandbox.Limits(processes=16))
    assert code == 0, printed
    words = printed.split()
    assert words[0:2] == ["stopped", "after"] and int(words[2]) < 16 and words[3] == "BlockingIOError"


def test_an_endless_program_is_killed_at_the_timeout_with_its_children(scratch):
    code, printed = run_python("""
        import os, time
        if os.fork() == 0:
            open("child-alive", "w")
        while True:
            time.sleep(0.1)
        """, scratch, timeout=3)
    assert code is None
    marker = scratch / "child-alive"
    assert marker.exists()
    # the PID namespace goes down with its first process: nothing of it runs on
    # (the kernel reaps the killed processes asynchronously, so allow it a moment)
    deadline = time.monotonic() + 10
    while any(sandbox_processes()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(sandbox_processes())


def sandbox_processes():
    """PIDs of processes of the test's sandbox user still alive."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == USER and os.geteuid() == 0:
                    yield int(entry.name)
            except OSError:
                pass


def test_without_bubblewrap_the_grader_refuses_and_says_how_to_fix_it(monkeypatch):
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
        sandbox.check_available()


def test_wrap_names_every_limit():
    command = sandbox.wrap(["python", "-c", "pass"], scratch=Path("/tmp/x"), sandbox_user=USER,
                           limits=sandbox.Limits(memory_mb=100, cpu_seconds=5, processes=9, file_mb=2, open_files=50))
    assert command[0] == "bwrap" and "--unshare-net" in command and "--unshare-pid" in command
    assert {f"--as={100 * 2**20}", "--cpu=5", "--fsize=" + str(2 * 2**20), "--nofile=50"} <= set(command)
    assert command[-3:] == ["python", "-c", "pass"]



def test_a_python_installed_under_tmp_stays_visible(monkeypatch):
    """The sandbox's own /tmp is mounted first, so a venv in a clone under
    /tmp (as CI's may be) is bound on top of it, not hidden by it."""
    venv = Path("/tmp/some-clone/.venv")
    monkeypatch.setattr(sandbox, "readable_paths", lambda: [Path("/usr"), venv])
    command = sandbox.wrap(["python"], scratch=Path("/tmp/scratch"), sandbox_user=USER)
    tmp_mount = command.index("/tmp", command.index("--bind"))
    venv_mount = command.index(str(venv))
    scratch_mount = max(i for i, part in enumerate(command) if part == "/tmp/scratch")
    assert tmp_mount < venv_mount < scratch_mount


# -- the caps of a sandbox as a whole: its scratch space and its memory ------


def run_and_say_why(code, scratch, limits, timeout=60):
    """Run code in the sandbox; returns (exit code, what it printed, why the
    sandbox was stopped: the reason sandbox.run gives, or "")."""
    (scratch / "job.py").write_text(textwrap.dedent(code), encoding="utf-8")
    (scratch / "out.txt").touch()
    sandbox.give_to_sandbox(scratch, USER)
    wrapper = "import runpy, sys\nsys.stdout = sys.stderr = open('out.txt', 'w', buffering=1)\nrunpy.run_path('job.py')\n"
    (scratch / "wrapper.py").write_text(wrapper, encoding="utf-8")
    code, stderr = sandbox.run([sys.executable, "wrapper.py"], scratch=scratch, sandbox_user=USER,
                               limits=limits, timeout=timeout)
    stopped = stderr.split(sandbox.STOPPED, 1)[1].strip() if sandbox.STOPPED in stderr else ""
    return code, (scratch / "out.txt").read_text(encoding="utf-8"), stopped


@pytest.fixture
def watchdogs_only(monkeypatch):
    """The caps as a machine without root or cgroups enforces them: by watchdogs."""
    monkeypatch.setattr(confinement, "mechanisms", lambda: confinement.Mechanisms("watchdog", "watchdog"))


@pytest.fixture
def bounded_scratch(tmp_path):
    """A scratch folder of 8 MB (and so 1024 files), removed afterwards."""
    folder = sandbox.make_scratch(tmp_path / "scratch", USER, disk_mb=8)
    os.chmod(tmp_path, 0o755)
    yield folder
    sandbox.remove_scratch(folder)
    assert not [point for point, _ in confinement.scratch_mounts() if point.startswith(str(tmp_path))]


WRITE_20_MB = """
    import os, time
    for number in range(20):
        with open(f"big-{number}.bin", "wb") as handle:
            handle.write(os.urandom(2**20))
        print("wrote", number + 1, "MB")
    time.sleep(3)
    """

MANY_SMALL_FILES = """
    import time
    for number in range(5000):
        open(f"small-{number}", "w").close()
        if number % 100 == 0:
            print("made", number + 1)
    time.sleep(3)
    """


@pytest.mark.skipif(os.geteuid() != 0, reason="the scratch space is a tmpfs only when the grader runs as root")
def test_a_sandbox_cannot_write_past_its_disk_cap(bounded_scratch):
    code, printed, stopped = run_and_say_why(WRITE_20_MB, bounded_scratch, sandbox.Limits(disk_mb=8))
    assert stopped == "the notebook wrote more than 8 MB into its folder (--disk 8), so it was stopped"
    assert "wrote 8 MB" not in printed, printed
    assert code != 0  # stopped, not left to finish
    assert sum(path.stat().st_size for path in bounded_scratch.glob("big-*")) <= 8 * 2**20


@pytest.mark.skipif(os.geteuid() != 0, reason="the scratch space is a tmpfs only when the grader runs as root")
def test_a_sandbox_cannot_make_more_files_than_its_cap(bounded_scratch):
    code, printed, stopped = run_and_say_why(MANY_SMALL_FILES, bounded_scratch, sandbox.Limits(disk_mb=8))
    assert len(list(bounded_scratch.glob("small-*"))) < confinement.files_allowed(8), printed
    assert stopped.startswith(f"the notebook made more than {confinement.files_allowed(8)} files and folders")


def test_the_disk_watchdog_stops_a_sandbox_past_its_cap(watchdogs_only, tmp_path):
    scratch = sandbox.make_scratch(tmp_path / "scratch", USER)
    os.chmod(tmp_path, 0o755)
    try:
        assert not os.path.ismount(scratch)
        # A MB every 50 ms: a watchdog looks a few times a second, so it must stop the writer long
        # before its 40th MB (a writer at full speed could be done before the first look).
        writer = WRITE_20_MB.replace("range(20)", "range(40)").replace(
            'print("wrote", number + 1, "MB")', 'print("wrote", number + 1, "MB"); time.sleep(0.05)')
        code, printed, stopped = run_and_say_why(writer, scratch, sandbox.Limits(disk_mb=8))
    finally:
        sandbox.remove_scratch(scratch)
    assert stopped == "the notebook wrote more than 8 MB into its folder (--disk 8), so it was stopped", printed
    assert "wrote 40 MB" not in printed and code != 0


CHILDREN_HOLDING_MEMORY = """
    import os, time
    for child in range(4):
        if os.fork() == 0:
            hold = b"x" * (100 * 2**20)   # 100 MB each, well under the per-process limit
            time.sleep(30)
            os._exit(0)
    time.sleep(30)
    print("all held")
    """


def test_a_sandboxs_processes_together_cannot_hold_past_the_memory_cap(scratch):
    started = time.monotonic()
    code, printed, stopped = run_and_say_why(CHILDREN_HOLDING_MEMORY, scratch, sandbox.Limits(memory_mb=256))
    assert "all held" not in printed
    assert stopped == "the notebook's processes used more than 256 MB together (--memory 256), so they were stopped"
    assert time.monotonic() - started < 20
    assert not any(sandbox_processes())


def test_the_memory_watchdog_stops_processes_that_together_pass_the_cap(watchdogs_only, scratch):
    code, printed, stopped = run_and_say_why(CHILDREN_HOLDING_MEMORY, scratch, sandbox.Limits(memory_mb=256))
    assert "all held" not in printed
    assert stopped.startswith("the notebook's processes used more than 256 MB together")


def test_processes_under_the_caps_are_left_alone(scratch):
    code, printed, stopped = run_and_say_why(CHILDREN_HOLDING_MEMORY.replace("range(4)", "range(1)").replace(
        "time.sleep(30)", "time.sleep(1)"), scratch, sandbox.Limits(memory_mb=256))
    assert (code, printed.strip(), stopped) == (0, "all held", "")


@pytest.mark.skipif(os.geteuid() != 0, reason="scratch spaces are mounted only when the grader runs as root")
def test_what_a_killed_grader_left_behind_is_removed_and_nothing_else(tmp_path):
    gone, alive, held = tmp_path / "gone", tmp_path / "alive", tmp_path / "held"
    gone.mkdir()
    alive.mkdir()
    held.mkdir()
    (held / "kept.txt").write_text("under the mount, not in it")
    dead_owner = f"{confinement.TAG}-999999999-1"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", dead_owner, str(gone)], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", dead_owner, str(held)], check=True)
    confinement.mount_scratch_space(alive, 1, 0)  # this process's own: still in use
    group = None
    if confinement.mechanisms().memory == "cgroup v1":
        group = confinement._cgroup_v1_base() / f"{dead_owner}-0"
        group.mkdir()
    try:
        assert confinement.remove_leftovers() >= 2
        assert not os.path.ismount(gone) and os.path.ismount(alive)
        # The folder a dead grader's space was mounted on goes too, unless something else is in it.
        assert not gone.exists() and alive.is_dir()
        assert not os.path.ismount(held) and (held / "kept.txt").read_text() == "under the mount, not in it"
        assert group is None or not group.exists()
    finally:
        confinement.unmount_under(tmp_path)
    assert not os.path.ismount(alive)


def test_the_temporary_folders_of_a_killed_grader_are_removed_and_no_others(tmp_path, monkeypatch):
    """A run's work folder holds the students' notebooks: a grader killed outright must not leave it in
    /tmp for good. The next run removes the folders whose maker is gone, and only those."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    alive = confinement.temporary_folder("work")
    assert alive.parent == tmp_path and alive.name.startswith(confinement.owner_name() + "-work-")
    dead = tmp_path / f"{confinement.TAG}-999999999-1-work-abc"
    (dead / "staged" / "ann").mkdir(parents=True)
    (dead / "staged" / "ann" / "notebook.ipynb").write_text("{}")
    (dead / "staged" / "ann").chmod(0o500)  # read-only, as a sandbox may leave it
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pointer = tmp_path / f"{confinement.TAG}-999999999-1-work-link"
    pointer.symlink_to(elsewhere)
    confinement.remove_leftovers()
    assert not dead.exists()
    assert alive.is_dir() and pointer.is_symlink() and elsewhere.is_dir()


def test_the_grader_reads_a_bounded_stderr_and_keeps_the_marked_lines(scratch):
    """A sandbox that floods its stderr is stopped once it passed the cap, and
    a marked line (a tripwire's report) written before the flood still reaches
    the grader, although it is far from the end."""
    code = (
        "import os\n"
        "os.write(2, b'reference-call 3 conv_lib.conv2d conv_lib.conv2d\\n')\n"
        "chunk = b'x' * 65536\n"
        "while True:\n"
        "    os.write(2, chunk)\n"
    )
    returncode, stderr = sandbox.run([sys.executable, "-c", code], scratch=scratch, sandbox_user=USER,
                                     timeout=60, keep_lines=("reference-call ",))
    assert returncode is not None, "the flood ran into the time limit instead of the stderr cap"
    assert stderr.splitlines()[0] == "reference-call 3 conv_lib.conv2d conv_lib.conv2d"
    assert stderr.splitlines()[-1] == f"{sandbox.STOPPED}it wrote more than {sandbox.STDERR_CAP // 1_000_000} MB of error output"
    assert len(stderr) < sandbox.STDERR_TAIL + 200


def test_matplotlib_finds_its_font_list_already_made_in_a_new_sandbox(scratch):
    """Each sandbox gets a copy of the grader's font list: matplotlib does not search the fonts again."""
    assert sorted(path.name for path in (scratch / ".matplotlib").iterdir()) == [sandbox.font_list().name]
    code, printed = run_python("""
        import os, time
        before = set(os.listdir(os.environ["MPLCONFIGDIR"]))
        from matplotlib import font_manager
        print(sorted(set(os.listdir(os.environ["MPLCONFIGDIR"])) - before), len(font_manager.fontManager.ttflist) > 0)
        """, scratch)
    assert (code, printed.strip()) == (0, "[] True"), printed


def test_two_grading_processes_never_hold_the_same_sandbox_user(tmp_path, monkeypatch):
    if not sandbox.running_as_root():
        pytest.skip("not root: each sandbox maps its user into a namespace of its own, there is nothing to share")
    monkeypatch.setattr(sandbox, "SLOT_FOLDER", tmp_path / "slots")
    numbers = range(100, 103)
    holder = subprocess.Popen(  # another grading process on the machine, holding number 100
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from pathlib import Path
            from autograder import sandbox
            sandbox.SLOT_FOLDER = Path({str(tmp_path / "slots")!r})
            number, handle = sandbox.claim_slot(range(100, 103))
            print(number, flush=True)
            sys.stdin.read()
            """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "100"
        mine, kept = sandbox.claim_slot(numbers, preferred=100)  # the preferred one is taken
        other, also_kept = sandbox.claim_slot(numbers)
        assert (mine, other) == (101, 102)
        assert sandbox.claim_slot(numbers) == (None, None)  # all three held
    finally:
        holder.communicate("")
    number, handle = sandbox.claim_slot(numbers)
    assert number == 100  # released when its process ended
    for lock in (kept, also_kept, handle):
        lock.close()


def test_conv_lib_is_compiled_once_by_the_grader_for_every_sandbox():
    assert sandbox.precompile_course_code()
    package = Path(sandbox.conv_lib.__file__).parent
    sources = {path.stem for path in package.rglob("*.py")}
    compiled = {path.name.split(".")[0] for path in package.rglob("__pycache__/*.pyc")}
    assert sources <= compiled, sources - compiled


def test_waiting_for_a_sandboxed_process_says_whether_it_ended_and_reaps_it():
    ended = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    assert sandbox.wait_for_exit(ended, timeout=60) is True
    assert ended.returncode == 3  # reaped: its exit code is known
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert sandbox.wait_for_exit(running, timeout=0.2) is False
        assert running.poll() is None  # still running: the caller stops it
    finally:
        running.kill()
        running.wait()
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert sandbox.wait_for_exit(gone, timeout=1) is True  # already reaped: no pidfd, still an answer
