"""OUT/progress.jsonl: what a grading run has finished, so an interrupted run resumes.

One JSON line is appended (and flushed to disk) as each submission's result
lands in the course gradebook: who, which assignment, the submission's
fingerprint, its status and the first failing line of each test. The scores
themselves stay in the gradebook, which `grade` reads them back from.

The next `conv-course grade` into the same OUT skips a submission whose line
is there with the same fingerprint: the same notebook bytes, the same
assignment source (hidden tests included) and the same grading options. A
changed submission, a changed test or a new --timeout is graded again;
`--force` grades again everything of the assignments being graded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

FILE_NAME = "progress.jsonl"


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

    def add(self, student_id, assignment, digest, status, message, messages):
        """Record one finished submission; on disk before this returns."""
        entry = dict(student_id=student_id, assignment=assignment, fingerprint=digest,
                     status=status, message=message, messages=messages)
        self.entries[(student_id, assignment)] = entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
