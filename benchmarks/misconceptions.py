"""How well the notebooks' checks name learners' ideas, on a corpus of learner answers (run with `make misconceptions`).

The answers are tests/learner_answers.py: each graded function written the way learners
write it (loops, vectorised numpy, einsum, sliding windows, im2col, functools.reduce, ...),
wrong in one known way or correct, with the codes its idea should earn. Each answer is
checked by the visible check (seed 0) and the hidden one (seed 7, hidden=True). A correct
answer counts under "correct passing" when both pass it, else as named wrongly; a wrong
answer counts once, under the first outcome that fits:

    named exactly          both checks give exactly the answer's codes
    missed                 a wrong answer passes both checks
    visible passes, hidden fails
                           the learner sees no failure in the notebook, yet grading takes the points
    hidden passes          the visible check refuses a wrong answer that grading lets through
    generic [wrong-values] a check gives [wrong-values] alone where the idea has a code of its own
    named wrongly          any other outcome: other codes than the idea's, or a correct answer refused

One row per exercise, then the total; --details lists every answer not named exactly, with
the codes expected and given. tests/test_learner_answers.py asserts what this counts.
"""

import argparse
import contextlib
import io
import sys
import time
from collections import Counter
from pathlib import Path

# The corpus lives with the tests that hold the checks to it (tests/test_learner_answers.py),
# beside the helpers it runs on (notebook_tools, misconception_tools); pytest puts tests/ on
# the import path for them, and this script does the same so that both read the same rows.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conv_lib.diagnose import EXERCISES  # noqa: E402
from learner_answers import ANSWERS, learner_function  # noqa: E402
from misconception_tools import codes_of  # noqa: E402

OUTCOMES = ("named exactly", "named wrongly", "generic [wrong-values]", "visible passes, hidden fails", "hidden passes",
            "missed")
GENERIC = ("wrong-values",)


def checked(check, function, **options):
    """The codes the check gives (None when it passes); a crash of the check itself is a code of its own.

    What the learner's function prints is kept out of the table.
    """
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return codes_of(check, function, **options)
    except Exception as error:  # a check that breaks on an answer is an outcome to count, not to stop at
        return (f"check crashed: {type(error).__name__}",)


def outcome(expected, visible, hidden):
    """The one outcome an answer is counted under (see the module's docstring)."""
    if visible == expected and hidden == expected:
        return "named exactly"
    if expected is None:
        return "named wrongly"
    if visible is None and hidden is None:
        return "missed"
    if visible is None:
        return "visible passes, hidden fails"
    if hidden is None:
        return "hidden passes"
    if expected != GENERIC and GENERIC in (visible, hidden):
        return "generic [wrong-values]"
    return "named wrongly"


def shown(codes):
    return "passes" if codes is None else " ".join(f"[{code}]" for code in codes)


def table(results, names):
    """The table's lines: one row per exercise in names, then the total."""
    header = ("exercise", "answers", "wrong") + OUTCOMES + ("correct passing",)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]

    def row(label, chosen):
        counts = Counter(result["outcome"] for result in chosen if result["expected"] is not None)
        correct = [result for result in chosen if result["expected"] is None]
        passing = sum(result["outcome"] == "named exactly" for result in correct)
        refused = len(correct) - passing  # counted as named wrongly
        cells = [label, len(chosen), len(chosen) - len(correct)]
        cells += [counts[name] + (refused if name == "named wrongly" else 0) for name in OUTCOMES]
        cells.append(f"{passing}/{len(correct)}")
        return "| " + " | ".join(str(cell) for cell in cells) + " |"

    for name in names:
        lines.append(row(name, [result for result in results if result["exercise"] == name]))
    lines.append(row("total", results))
    return lines


def main():
    names = [exercise.name for exercise in EXERCISES]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", nargs="+", choices=names, default=names, help="only these graded functions")
    parser.add_argument("--details", action="store_true", help="list every answer not named exactly")
    arguments = parser.parse_args()

    checks = {exercise.name: exercise.check for exercise in EXERCISES}
    start = time.perf_counter()
    results = []
    for answer in ANSWERS:
        if answer.exercise not in arguments.exercise:
            continue
        function = learner_function(answer)
        visible = checked(checks[answer.exercise], function, seed=0)
        hidden = checked(checks[answer.exercise], function, seed=7, hidden=True)
        results.append(dict(exercise=answer.exercise, label=answer.label, style=answer.style, expected=answer.expected,
                            visible=visible, hidden=hidden, outcome=outcome(answer.expected, visible, hidden)))
    seconds = time.perf_counter() - start

    styles = Counter(result["style"] for result in results)
    print(f"{len(results)} learner answers ({', '.join(f'{count} {style}' for style, count in sorted(styles.items()))}), "
          f"each checked visibly (seed 0) and hidden (seed 7), in {seconds:.1f} s")
    print()
    print("\n".join(table(results, [name for name in names if name in arguments.exercise])))
    if arguments.details:
        print()
        print("Answers not named exactly (expected; visible check; hidden check):")
        for result in results:
            if result["outcome"] != "named exactly":
                print(f"  {result['exercise']}:{result['label']} ({result['style']}): {result['outcome']}: expected "
                      f"{shown(result['expected'])}; visible {shown(result['visible'])}; hidden {shown(result['hidden'])}")


if __name__ == "__main__":
    main()
