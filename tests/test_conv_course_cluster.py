"""`conv-course grade --cluster`: grading on Dask's distributed scheduler loses nothing.

A real scheduler and two workers run as separate processes on 127.0.0.1 (the
`dask scheduler` and `dask worker` commands an instructor would start); one
worker is killed while it grades, and every submission must still be graded
exactly once, with the same CSVs as grading on this machine. (The whole
submission set of the autograder tests is graded on a LocalCluster in
test_conv_course_grade.py.) The tests stop everything they start.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from notebook_tools import REPO
from submission_set import generated_submissions
from test_conv_course_grade import conv_course, read_csv

pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("needs_bubblewrap")

ASSIGNMENT = "03_many_filters"
COUNT = 6
DASK = Path(sys.executable).with_name("dask")


def start(*args, log):
    """A process of its own session (so its whole group can be killed)."""
    return subprocess.Popen([str(DASK), *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            cwd=REPO)


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds} s for {what}")


def sandboxes_of(pid):
    """The sandboxes (bwrap processes) that the process pid has started and that still run."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name, rest = (entry / "stat").read_text().rsplit(")", 1)
            except OSError:
                continue
            if int(rest.split()[1]) == pid and name.endswith("(bwrap"):
                found.append(int(entry.name))
    return found


def journal_lines(out):
    path = out / "progress.jsonl"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@pytest.fixture
def submissions(tmp_path):
    folder = tmp_path / "submissions"
    generated_submissions(folder, COUNT, ASSIGNMENT)
    return folder


def test_a_worker_killed_while_it_grades_loses_no_submission(submissions, tmp_path):
    local = tmp_path / "local"
    run = conv_course("grade", submissions, "--out", local, "--course", tmp_path / "course-local",
                      "--jobs", 2, "--timeout", 30, "--quiet")
    assert run.returncode == 0, run.stderr

    scheduler_file = tmp_path / "scheduler.json"
    started = []
    with open(tmp_path / "dask.log", "w") as log:
        try:
            started.append(start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                 "--scheduler-file", scheduler_file, log=log))
            address = wait_for(lambda: scheduler_file.exists() and json.loads(scheduler_file.read_text() or "{}")
                               .get("address"), 60, "the scheduler")
            workers = [start("worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                             "--host", "127.0.0.1", "--name", name, log=log) for name in ("a", "b")]
            started += workers
            cluster = tmp_path / "cluster"
            grading = subprocess.Popen(
                [sys.executable, "-m", "autograder.cli", "grade", str(submissions), "--out", str(cluster),
                 "--course", str(tmp_path / "course-cluster"), "--timeout", "30", "--cluster", address, "--quiet"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
            started.append(grading)
            # Kill worker a in the middle of the run: results have come back,
            # and a is running a submission's sandboxed kernel right now.
            victim = workers[0]
            wait_for(lambda: 1 <= len(journal_lines(cluster)) < COUNT - 2 and sandboxes_of(victim.pid), 180,
                     "worker a to be grading in the middle of the run")
            orphans = sandboxes_of(victim.pid)
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait(timeout=30)
            # and the sandboxed kernel it was running ends with it
            wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in orphans), 10, "the sandbox to end")
            stdout, stderr = grading.communicate(timeout=600)
        finally:
            for process in reversed(started):
                stop(process)
    log_text = (tmp_path / "dask.log").read_text()
    assert grading.returncode == 0, stdout + stderr + log_text
    assert f"on the cluster {address}" in stdout

    keys = [(entry["student_id"], entry["assignment"]) for entry in map(json.loads, journal_lines(cluster))]
    assert len(keys) == len(set(keys)) == COUNT  # each submission recorded exactly once
    for name in ("grades.csv", "tests.csv"):
        assert (cluster / name).read_text(encoding="utf-8") == (local / name).read_text(encoding="utf-8"), name
    assert {row["status"] for row in read_csv(cluster / "grades.csv")} <= {"ok", "needs_manual_grade"}
    assert len(list((cluster / "feedback").rglob("*.html"))) == COUNT


def test_a_submission_that_keeps_killing_workers_is_an_error_and_the_rest_are_graded(submissions, tmp_path):
    import cloudpickle

    from autograder import cluster, submissions as collect_module

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    found, _ = collect_module.collect(submissions, tmp_path / "staged", [ASSIGNMENT])
    doomed = found[1].student_id
    results, crashes = {}, {}

    class Bar:
        def update(self, count):
            pass

    def crashed(index, message):
        crashes[index] = message
        return {"crashed": message}

    settings = cluster.worker.Settings(course_db="", solutions="", config_file="")
    (tmp_path / "gradebook.db").write_bytes(b"")
    cluster.run("local:2", settings, tmp_path / "gradebook.db", found, False,
                on_result=results.__setitem__, on_crash=crashed, bar=Bar(), task=exit_for_one_student(doomed))
    assert sorted(results) == list(range(len(found)))
    assert list(crashes) == [1]
    assert "stopped every grading worker it ran on" in crashes[1]
    assert results[1] == {"crashed": crashes[1]}
    assert all(results[i]["student_id"] == found[i].student_id for i in results if i != 1)


def exit_for_one_student(doomed):
    def task(plugin_name, student_id, assignment, notebook_bytes, feedback):
        if student_id == doomed:
            os._exit(1)  # as a worker killed by the machine's out-of-memory killer
        return {"student_id": student_id, "assignment": assignment, "bytes": len(notebook_bytes)}
    return task


def test_an_unknown_cluster_address_is_an_error_that_says_how_to_start_one(submissions, tmp_path, monkeypatch):
    run = conv_course("grade", submissions, "--out", tmp_path / "out", "--course", tmp_path / "course",
                      "--cluster", "local:none", "--quiet")
    assert run.returncode == 1
    assert "--cluster local:N needs a number of workers" in run.stderr

    from autograder import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(cluster.ClusterError, match="no Dask scheduler answered at tcp://127.0.0.1:9") as error:
        cluster.connect("tcp://127.0.0.1:9")
    assert "dask worker tcp://127.0.0.1:9 --nthreads 1" in str(error.value)


def test_a_worker_with_another_version_of_the_course_is_refused():
    from autograder import cluster

    assert cluster.check_worker(cluster.course_fingerprints([ASSIGNMENT])) == ""
    why = cluster.check_worker({ASSIGNMENT: "0" * 64})
    assert "differs from the client's" in why and ASSIGNMENT in why


def _worker_settings(names):
    import dask

    return {name: dask.config.get(name) for name in names}


def _saturation(dask_scheduler):
    return dask_scheduler.WORKER_SATURATION


def test_a_local_cluster_runs_with_its_grading_settings_on_each_worker():
    """--cluster local:N gives its workers the settings that keep one submission per worker and make
    Dask's own watching rare (cluster.IDLE_WATCHING): in the worker processes, not only here."""
    from autograder import cluster

    client, local = cluster.connect("local:1")
    try:
        seen = list(client.run(_worker_settings, list(cluster.IDLE_WATCHING)).values())
        saturation = client.run_on_scheduler(_saturation)  # the scheduler reads it once, when it is made
    finally:
        client.close()
        local.close()
    assert seen == [cluster.IDLE_WATCHING]
    assert saturation == 1.0


def _http_status(host, port, path):
    """The HTTP status of GET http://host:port/path."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def _http_address(dask_scheduler):
    server = dask_scheduler.http_server
    return server.address, server.port


def test_two_local_clusters_at_once_serve_no_dashboard_and_take_no_fixed_port():
    """Two `--cluster local:N` runs at the same time (two instructors, two test workers): neither shows a
    dashboard, and the scheduler's small HTTP server listens on a free port of 127.0.0.1, so neither
    warns that Dask's port 8787 is taken."""
    import warnings

    from autograder import cluster

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first, first_local = cluster.connect("local:1")
        second, second_local = cluster.connect("local:1")
        try:
            addresses = [client.run_on_scheduler(_http_address) for client in (first, second)]
            answers = [(_http_status(*address, "/health"), _http_status(*address, "/status")) for address in addresses]
        finally:
            for client, local in ((first, first_local), (second, second_local)):
                client.close()
                local.close()
    assert [message for message in map(str, (w.message for w in caught)) if "already in use" in message] == []
    assert [host for host, _ in addresses] == ["127.0.0.1", "127.0.0.1"]
    assert addresses[0][1] != addresses[1][1] and 8787 not in [port for _, port in addresses]
    assert answers == [(200, 404), (200, 404)]  # health answers; no dashboard page


def test_a_plugin_removed_while_its_worker_sets_up_leaves_nothing_behind(tmp_path, monkeypatch):
    """A short run can end while a worker is still setting up (its sandbox check, its folder): the
    plugin's teardown waits for that set-up and then removes what it made, so /tmp keeps nothing."""
    import threading
    import time

    from autograder import cluster

    made = tmp_path / "worker-folder"  # what grading_worker makes (a confinement.temporary_folder)
    go_on, set_up = threading.Event(), threading.Event()

    def slow_grading_worker(plugin):
        go_on.wait(5)
        time.sleep(0.3)  # still setting up when the run ends
        made.mkdir()
        (made / "gradebook.db").write_bytes(b"")
        plugin.folder = made
        set_up.set()

    monkeypatch.setattr(cluster.GradingPlugin, "grading_worker", slow_grading_worker)
    plugin = cluster.GradingPlugin(settings=None, gradebook_bytes=b"", expected={})
    plugin.setup()
    go_on.set()
    plugin.teardown()
    assert set_up.wait(5) and not made.exists()
