"""Late work: the deadline, the late-penalty policy, how late a submission is and what it costs.

Pure functions, no files: grade.py gives each submission's time and LMS
marker, and gets back the `late` text of grades.csv and the penalised score.

The deadline (`--deadline`) is an ISO 8601 time, `2026-12-01T23:59`. Without
an offset it is the grading machine's local time (its time zone, daylight
saving included, for that date); with `Z` or `+01:00` it is that instant. A
time names the whole of its last unit: `23:59` is on time up to 23:59:59.999,
`23:59:30` up to 23:59:30.999, a date alone up to the end of that day. So a
submission is late from the first instant after that (`late_from`), and how
late is counted from there.

A submission's lateness comes from what the grader knows:

  * the LMS's own verdict, when the file name carries one: Canvas writes
    `LATE` into the name of a late submission, and nothing into the name of
    one on time. That verdict decides (Canvas knows the real submission time
    and each learner's own due date); the file's time is not used, because a
    Canvas download's times are those of the zip, not the submissions (see
    submissions.py). Canvas gives no amount, so the text is
    "late (Canvas marked it)";
  * else the file's modification time against the deadline.

The penalty (`--late-penalty 10%/day,max=50%`, or `5%/hour`) follows Canvas's
late policy: each started day (or hour) after the deadline deducts that
percentage of the assignment's points possible (`max_score`), not of the
points earned; `max=` caps the total deduction (without it, 100%). A
submission 1 s late has started its first day. A submission Canvas marked
late by an unknown amount loses one period: the least that any late
submission loses. The deducted points are rounded to the hundredth (half
up), and a score never goes below 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

PERIODS = {"day": 86400, "hour": 3600}

DEADLINE_EXAMPLE = "2026-12-01T23:59 (this machine's local time), 2026-12-01T23:59Z or 2026-12-01T23:59+01:00"
PENALTY_EXAMPLE = "10%/day,max=50% or 5%/hour"

_DEADLINE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?P<fraction>\.\d{1,6})?)?)?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?$"
)
_PERCENT = r"(\d+(?:\.\d+)?)\s*%"
_PENALTY = re.compile(rf"^{_PERCENT}\s*/\s*(day|hour)\s*(?:,\s*max\s*=\s*{_PERCENT})?$", re.IGNORECASE)


class LateWorkError(ValueError):
    """A --deadline or --late-penalty that cannot be read; the message says what was expected."""


@dataclass(frozen=True)
class Deadline:
    """A deadline as given, and the first instant that is late."""

    text: str
    late_from: datetime  # aware

    def timestamp(self) -> float:
        return self.late_from.timestamp()


@dataclass(frozen=True)
class Penalty:
    """A late-penalty policy: `percent` of max_score per started `period`, at most `cap` percent in all."""

    text: str
    percent: float
    period: str  # "day" or "hour"
    cap: float = 100.0

    @property
    def seconds(self) -> int:
        return PERIODS[self.period]


@dataclass(frozen=True)
class Lateness:
    """How late a late submission is: `seconds` after late_from, or None when only the LMS's marker says so."""

    seconds: float | None


def parse_deadline(text: str) -> Deadline:
    """`--deadline`'s text as a Deadline; LateWorkError naming the expected form otherwise."""
    match = _DEADLINE.match(text.strip())
    if not match:
        raise LateWorkError(f"--deadline must look like {DEADLINE_EXAMPLE}; got {text!r}")
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['hour'] or '00'}:{match['minute'] or '00'}:"
                                        f"{match['second'] or '00'}{match['fraction'] or ''}")
        zone = _zone(match["zone"])
    except ValueError as error:
        raise LateWorkError(f"--deadline {text!r} is no real time ({error}); expected e.g. {DEADLINE_EXAMPLE}") from None
    # A naive time is this machine's local time (its zone and daylight saving on that date).
    moment = moment.replace(tzinfo=zone) if zone else moment.astimezone()
    return Deadline(text.strip(), moment + _last_unit(match))


def _zone(text: str | None) -> timezone | None:
    """The time zone of `Z` or `+01:00` / `-0530`; None for none."""
    if not text:
        return None
    if text == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[-2:])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _last_unit(match: re.Match) -> timedelta:
    """How long the last unit the deadline names lasts: a day, a minute, a second, or nothing for a fraction."""
    if match["hour"] is None:
        return timedelta(days=1)
    if match["second"] is None:
        return timedelta(minutes=1)
    return timedelta(seconds=0 if match["fraction"] else 1)


def parse_penalty(text: str) -> Penalty:
    """`--late-penalty`'s text as a Penalty; LateWorkError naming the expected form otherwise."""
    match = _PENALTY.match(text.strip())
    if not match:
        raise LateWorkError(f"--late-penalty must look like {PENALTY_EXAMPLE}; got {text!r}")
    percent, period, cap = float(match[1]), match[2].lower(), float(match[3]) if match[3] else 100.0
    if not 0 < percent <= 100:
        raise LateWorkError(f"--late-penalty: the percentage per {period} must be more than 0% and at most 100%; "
                            f"got {match[1]}% in {text!r}")
    if not 0 < cap <= 100:
        raise LateWorkError(f"--late-penalty: max= must be more than 0% and at most 100%; got {match[3]}% in {text!r}")
    return Penalty(text.strip(), percent, period, cap)


def how_late(submitted_at: float | None, deadline: Deadline | None, marked_late: bool | None) -> Lateness | None:
    """None when on time; else how late.

    submitted_at: the file's time (seconds since the epoch), None if unknown;
    marked_late: the LMS's verdict from the file name (True, False), None when the name carries none.
    """
    if marked_late is not None:
        return Lateness(None) if marked_late else None
    if deadline is None or submitted_at is None or submitted_at < deadline.timestamp():
        return None
    return Lateness(submitted_at - deadline.timestamp())


def late_words(lateness: Lateness | None) -> str:
    """'' when on time; '1 day 2 h late', '3 h 5 min late', '40 s late'; 'late (Canvas marked it)'."""
    if lateness is None:
        return ""
    if lateness.seconds is None:
        return "late (Canvas marked it)"
    left = int(lateness.seconds)
    parts = []
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count} {unit}{'s' if unit == 'day' and count > 1 else ''}")
    return " ".join(parts[:2]) + " late" if parts else "under a second late"


def periods_started(lateness: Lateness, penalty: Penalty) -> int:
    """How many days (or hours) of the penalty a late submission has started: 1 from its first second,
    and 1 when only the LMS's marker says it is late."""
    if lateness.seconds is None:
        return 1
    return math.floor(lateness.seconds / penalty.seconds) + 1


def deduction(max_score: float, lateness: Lateness | None, penalty: Penalty | None) -> float:
    """The points a late submission loses: percent x started periods of max_score, at most cap percent of it,
    rounded to the hundredth (half up). 0 when on time or without a penalty."""
    if lateness is None or penalty is None:
        return 0.0
    percent = min(penalty.percent * periods_started(lateness, penalty), penalty.cap)
    points = Decimal(str(max_score)) * Decimal(str(percent)) / 100
    return float(points.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def penalised_score(score: float, max_score: float, lateness: Lateness | None, penalty: Penalty | None) -> float:
    """The score after the late penalty (never below 0); the score itself when on time or without a penalty."""
    lost = deduction(max_score, lateness, penalty)
    return score if lost == 0 else max(0.0, round(score - lost, 2))


def late_column(lateness: Lateness | None, deducted: float) -> str:
    """The `late` cell of grades.csv: how late in words, and the points deducted if any."""
    words = late_words(lateness)
    return f"{words}; -{deducted:g} points" if words and deducted else words


#: Submissions whose file times all lie within this many seconds of each other were probably unzipped at once.
SAME_MOMENT_SECONDS = 120


def times_look_copied(times: list[float]) -> str | None:
    """A warning when the file times that decide lateness (three or more) all lie within
    SAME_MOMENT_SECONDS of each other: likely the moment a zip was made or unpacked, not of each
    submission. None otherwise."""
    known = [t for t in times if t]
    if len(known) < 3 or max(known) - min(known) > SAME_MOMENT_SECONDS:
        return None
    return (f"the file times of all {len(known)} submissions judged by their time lie within "
            f"{max(known) - min(known):.0f} s of each other: they may be when a zip was made or unpacked, "
            "not when each was submitted; check the `late` column before using it")
