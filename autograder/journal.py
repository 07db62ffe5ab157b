"""OUT/progress.jsonl and OUT/run.json: what a grading run did, so the next command continues it.

One JSON line is appended to progress.jsonl (and flushed to disk) as each
submission's result lands in the course gradebook: who, which assignment, the
submission's fingerprint, its status, the first failing line of each test,
and what says whether it was late (the file's time, `submitted_at`, and the
LMS's marker, `marked_late`). The scores themselves stay in the gradebook,
which `grade` reads them back from.

The next `conv-course grade` into the same OUT skips a submission whose line
is there with the same fingerprint: the same notebook bytes, the same
assignment source (hidden tests included) and the same grading options. A
changed submission, a changed test or a new --timeout is graded again;
`--force` grades again everything of the assignments being graded.

OUT/run.json (write_run, read_run) holds the options of the last grade run
into OUT, for `conv-course feedback` (which applies the same late penalty
again) and for the report:

    {"version": 1, "started": "2026-12-02T09:14:03+01:00", "seconds": 138.1,
     "jobs": 2, "cluster": "", "assignments": ["02_multi_channel"],
     "deadline": "2026-12-01T23:59", "late_from": "2026-12-02T00:00:00+01:00",
     "late_penalty": "10%/day,max=50%", "similarity": true, "feedback": true,
     "stages": {"kernel start": {"median": 0.61, "total": 24.9, "count": 40}, ...}}

`jobs` is null on a cluster; `deadline`, `late_from` and `late_penalty` are
null when not given. `stages` says where the grading time went, per stage of
stage_times.STAGES (seconds per submission): empty when nothing was graded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

FILE_NAME = "progress.jsonl"
RUN_FILE = "run.json"
RUN_VERSION = 1


def fingerprint(notebook_path, source_path, options):
    """A hex digest of what decides a submission's grade.

    notebook_path: the staged submission; source_path: the assignment's
    nbgrader source; options: the values that change grading (timeout,
    memory limit, the independent check's secret).
    """
    digest = hashlib.sha256()
    for path in (notebook_path, source_path):
        digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
    digest.update(json.dumps(list(options)).encode())
    return digest.hexdigest()


class Journal:
    """The progress file of one OUT folder."""

    def __init__(self, out):
        self.path = Path(out) / FILE_NAME
        self.entries = {}
        if self.path.exists():
            text = self.path.read_text(encoding="utf-8", errors="replace")
            if text and not text.endswith("\n"):
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write("\n")  # end a line cut short when the run was killed, before adding any
            for line in text.splitlines():
                try:
                    entry = json.loads(line)
                    key = (entry["student_id"], entry["assignment"])
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short when the run was killed
                self.entries[key] = entry

    def forget(self, assignments):
        """Forget the earlier results of these assignments (--force); the others stay."""
        self.entries = {key: entry for key, entry in self.entries.items() if key[1] not in set(assignments)}
        if not self.entries:
            self.path.unlink(missing_ok=True)
            return
        kept = self.path.with_suffix(".tmp")
        kept.write_text("".join(json.dumps(entry, sort_keys=True) + "\n" for entry in self.entries.values()),
                        encoding="utf-8")
        os.replace(kept, self.path)

    def finished(self, student_id, assignment, digest):
        """The entry of an earlier run that graded exactly this, or None."""
        entry = self.entries.get((student_id, assignment))
        return entry if entry is not None and entry.get("fingerprint") == digest else None

    def add(self, student_id, assignment, digest, status, message, messages, submitted_at=None, marked_late=None):
        """Record one finished submission; on disk before this returns."""
        entry = dict(student_id=student_id, assignment=assignment, fingerprint=digest,
                     status=status, message=message, messages=messages,
                     submitted_at=submitted_at, marked_late=marked_late)
        self.entries[(student_id, assignment)] = entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def write_run(out, run):
    """Write OUT/run.json (the dict `run`, see the module's docstring), replacing it whole."""
    path = Path(out) / RUN_FILE
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps({"version": RUN_VERSION, **run}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def read_run(out):
    """The dict of OUT/run.json; {} when there is none or it cannot be read (a run from before it existed)."""
    try:
        run = json.loads((Path(out) / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return run if isinstance(run, dict) else {}
