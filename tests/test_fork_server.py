"""A process the fork server places in a sandbox is confined exactly as one started there directly.

The fork server (autograder/fork_server.py) saves each sandboxed process the import of its libraries:
it forks a process that has them, and that process joins a sandbox bubblewrap built as before. These
tests run the same probe both ways through sandbox.run, as the grader runs the independent check, and
hold the placed process to what the direct one sees and may do: its user, capabilities, namespaces,
files, open descriptors, limits and environment; and they check what is the fork server's own: the
exit status reaches the grader, killing the sandbox kills what was placed in it, random numbers are
drawn afresh, and a server that fails is given up without failing the submission.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from sandbox_users import sandbox_user

from autograder import confinement, fork_server, sandbox

USER = sandbox_user()

pytestmark = [
    pytest.mark.usefixtures("needs_bubblewrap"),
    pytest.mark.skipif(not fork_server.wanted(), reason="the fork server needs root and a memory cgroup"),
]

PROBE = """
    import json, os, resource, socket, sys
    def lines(path, starts):
        with open(path) as handle:
            return [line.strip() for line in handle if line.startswith(starts)]
    def tty():
        try:
            os.close(os.open("/dev/tty", os.O_RDWR))
            return "opened"
        except OSError as error:
            return type(error).__name__
    try:
        socket.create_connection(("1.1.1.1", 80), timeout=1)
        network = "reached"
    except OSError as error:
        network = type(error).__name__
    limits = {name: resource.getrlimit(getattr(resource, name))
              for name in ("RLIMIT_CPU", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE")}
    print(json.dumps({
        "ids": [os.getresuid(), os.getresgid(), os.getgroups()],
        "status": lines("/proc/self/status", ("Cap", "NoNewPrivs", "Seccomp")),
        "hostname": socket.gethostname(), "root": sorted(os.listdir("/")), "network": network,
        "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()) != [],
        "cwd": os.getcwd(), "env": dict(os.environ), "limits": limits, "umask": os.umask(0o022),
        "files": sorted(os.listdir("/proc/self/fd")), "terminal": os.path.exists("/dev/tty") and tty(),
        "preloaded": "ipykernel.kernelapp" in sys.modules,
    }))
    """


def run_probe(tmp_path, name, code=PROBE, switch="", timeout=60):
    """Run code through sandbox.run in a fresh scratch folder; returns (exit code, its stdout with the
    folder's path written SCRATCH, its stderr)."""
    scratch = sandbox.make_scratch(tmp_path / name, USER)
    os.chmod(tmp_path, 0o755)
    (scratch / "job.py").write_text(textwrap.dedent(code), encoding="utf-8")
    (scratch / "out.txt").touch()
    sandbox.give_to_sandbox(scratch, USER)
    wrapper = "import runpy, sys\nsys.stdout = open('out.txt', 'w', buffering=1)\nrunpy.run_path('job.py')\n"
    (scratch / "wrapper.py").write_text(wrapper, encoding="utf-8")
    previous = os.environ.get(fork_server.SWITCH)
    os.environ[fork_server.SWITCH] = switch
    try:
        code, stderr = sandbox.run([sys.executable, "wrapper.py"], scratch=scratch, sandbox_user=USER,
                                   timeout=timeout, limits=sandbox.Limits(memory_mb=512))
        return code, (scratch / "out.txt").read_text(encoding="utf-8").replace(str(scratch), "SCRATCH"), stderr
    finally:
        os.environ[fork_server.SWITCH] = previous or ""
        sandbox.remove_scratch(scratch)


def probe(tmp_path, name, switch=""):
    code, printed, stderr = run_probe(tmp_path, name, switch=switch)
    assert code == 0, stderr
    return json.loads(printed)


def test_a_placed_process_starts_with_the_libraries_already_imported(tmp_path):
    assert probe(tmp_path, "placed")["preloaded"] is True
    assert probe(tmp_path, "direct", switch="off")["preloaded"] is False


def test_a_placed_process_is_confined_exactly_as_one_started_directly(tmp_path):
    placed, direct = probe(tmp_path, "placed"), probe(tmp_path, "direct", switch="off")
    placed.pop("preloaded"), direct.pop("preloaded")
    assert placed == direct
    # and what that confinement is, so that the comparison cannot pass on two open doors
    assert placed["ids"] == [[USER] * 3, [USER] * 3, []]
    assert all(line.endswith("0000000000000000") for line in placed["status"] if line.startswith("Cap"))
    assert "NoNewPrivs:\t1" in placed["status"]
    assert placed["hostname"] == "sandbox" and placed["network"] != "reached"
    assert placed["files"] == ["0", "1", "2", "3", "4"]  # the standard three, out.txt, the listing
    assert placed["terminal"] != "opened"  # no way to the grader's terminal


def test_the_exit_status_reaches_the_grader_as_it_would_directly(tmp_path):
    for code, expected in [("raise SystemExit(3)", 3), ("raise ValueError('no')", 1),
                           ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 128 + 9)]:
        placed = run_probe(tmp_path, "placed", code=code)[0]
        direct = run_probe(tmp_path, "direct", code=code, switch="off")[0]
        assert placed == direct == expected, code


def test_ending_the_sandbox_ends_every_process_placed_in_it(tmp_path):
    code, printed, stderr = run_probe(tmp_path, "placed", timeout=3, code="""
        import os, time
        if os.fork() == 0:
            os.setsid()  # a daemon of its own session
            time.sleep(300)
        time.sleep(300)
        """)
    assert code is None  # stopped at the timeout
    left = subprocess.run(["pgrep", "-u", str(USER)], capture_output=True, text=True).stdout.split()
    assert left == []


def test_each_placed_process_draws_its_own_random_numbers(tmp_path):
    draw = "import random, numpy\nprint(random.random(), numpy.random.rand())\n"
    first, second = (run_probe(tmp_path, name, code=draw)[1] for name in ("one", "two"))
    assert first.split()[0] != second.split()[0] and first.split()[1] != second.split()[1]


def test_a_failing_fork_server_is_given_up_and_the_process_started_directly(tmp_path, monkeypatch, capfd):
    def refuse(*args, **kwargs):
        raise fork_server.Unavailable("refused for the test")

    monkeypatch.setattr(fork_server.ForkServer, "place", refuse)
    monkeypatch.setattr(sandbox, "_fork_server", None)
    code, printed, _ = run_probe(tmp_path, "placed", code="import sys\nprint('ipykernel' in sys.modules)\n")
    assert (code, printed.strip()) == (0, "False")
    assert "the fork server failed (refused for the test)" in capfd.readouterr().err
    assert sandbox.shared_fork_server() is None


def test_a_server_whose_worker_is_gone_ends_and_leaves_no_folder_behind():
    server = fork_server.ForkServer(sandbox.fork_server_environment).start()
    server._ready()
    home, process = server.home, server.process
    assert home.is_dir()
    # Named after this worker (confinement.temporary_folder): were both killed outright, the next run removes it.
    assert home.name.startswith(f"{confinement.owner_name()}-{fork_server.HOME_KIND}-")
    server.channel.close()  # as when the worker ends, however it ends
    server.channel = None
    assert process.wait(timeout=30) == 0
    assert not home.exists()
    server.process = None
