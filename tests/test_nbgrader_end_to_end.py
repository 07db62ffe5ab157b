"""nbgrader grades the course as intended, from release to feedback.

In a temporary course folder, with the course's own nbgrader config, every
assignment of solutions/ that has graded cells (so not the lecture demo) is
released, then submitted by a few students, built from the released notebook:

* "correct": every solution cell answered as in solutions/ (matched by grade_id);
* "blank":   the released notebook as it is;
* each student of WRONG_SUBMISSIONS[assignment]: "correct", except the named
  solution cells, which hold a wrong implementation.

Then `nbgrader autograde` and `nbgrader generate_feedback` run once each for all
assignments and students, and the scores are read from nbgrader's gradebook
(its Python API). Expected:

* correct gets every point of every autograder test cell;
* blank gets 0 on every autograder test cell;
* a wrong student loses exactly the points of the test cells of the
  functions they got wrong (cell `<grade_id>_tests`), keeps all others, and
  their feedback page names each misconception in EXPECTED_CODES;
* no feedback page shows a hidden test (marker or line).

How nbgrader counts the written answers (manually graded markdown cells):
they are in the submission's max_score (so max_score = autograded points +
written points) and score 0 until a person grades them (for an answer left
as "YOUR ANSWER HERE" nbgrader gives 0 at once and asks for no grading). So
the checks below use the autograder test cells only: nbgrader's code_score and
max_code_score, cell by cell.
"""

import pytest
from notebook_tools import (
    BEGIN_HIDDEN,
    END_HIDDEN,
    SOLUTIONS,
    TOY,
    TOY_CODES,
    TOY_WRONG,
    assignment_params,
    find_assignments,
    grade_course,
    graded_assignments,
    html_text,
    notebooks_in,
    points_of_tests,
    read_notebook,
    secret_lines,
    solution_notebooks,
    solution_sources,
    text_lines,
    write_toy_assignment,
)

#: The end of a corr2d in notebook 01's style: slide the window over x (already padded, or not), stride apart.
CORR2D_WINDOWS = '''    kH, kW = k.shape
    Ho = conv_output_size(x.shape[0], kH, 0, stride)
    Wo = conv_output_size(x.shape[1], kW, 0, stride)
    out = np.zeros((Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[i, j] = np.sum(x[i * stride : i * stride + kH, j * stride : j * stride + kW] * k)
    return out
'''

# Notebook 07's wrong answers, as learners write them.
GROUPS_IGNORED = '''def conv2d_grouped(x, w, b, groups, stride=1, padding=0):
    # Every filter reads the first C_in/groups channels, whatever its group.
    C_in, C_out = x.shape[1], w.shape[0]
    if C_in % groups != 0 or C_out % groups != 0 or w.shape[1] * groups != C_in:
        raise ValueError(f"groups={groups} does not fit C_in={C_in}, C_out={C_out}, w depth {w.shape[1]}")
    x = pad2d(x, padding)
    depth = w.shape[1]
    return np.stack([np.stack([conv2d_multi_in(image[:depth], w[f], b[f], stride=stride) for f in range(C_out)])
                     for image in x])
'''
DEALT_IN_TURN = '''def conv2d_grouped(x, w, b, groups, stride=1, padding=0):
    # Deals the filters out to the groups in turn: filter f goes to group f % groups.
    C_in, C_out = x.shape[1], w.shape[0]
    if C_in % groups != 0 or C_out % groups != 0 or w.shape[1] * groups != C_in:
        raise ValueError(f"groups={groups} does not fit C_in={C_in}, C_out={C_out}, w depth {w.shape[1]}")
    x = pad2d(x, padding)
    depth = w.shape[1]
    return np.stack([np.stack([conv2d_multi_in(image[(f % groups) * depth : (f % groups + 1) * depth], w[f], b[f],
                                               stride=stride) for f in range(C_out)]) for image in x])
'''
NO_POINTWISE = '''def separable_params(c_in, c_out, k):
    # Counts the depthwise step only.
    return c_in * (k * k + 1)
'''
KERAS_RESHAPED = '''def to_conv_lib_layout(kernel, source):
    # Reshapes the Keras kernel to the new shape instead of moving its axes.
    if source == "keras":
        kH, kW, C_in, C_out = kernel.shape
        return kernel.reshape(C_out, C_in, kH, kW)
    if source == "pytorch":
        return kernel
    raise ValueError(f"source must be 'keras' or 'pytorch', got {source!r}")
'''

# Wrong answers: {assignment: {student_id: {grade_id of a solution cell: its wrong source}}}.
# Each student answers every other cell correctly, so they must lose exactly the
# points of the test cells `<grade_id>_tests` of the cells listed here.
WRONG_SUBMISSIONS = {
    "01_single_channel": {
        "padding_ignored": {
            "corr2d": '''def corr2d(x, k, padding=0, stride=1):
    # Never pads: the output shrinks even when padding is asked for.
''' + CORR2D_WINDOWS,
        },
        "flipped_kernel": {
            "corr2d": '''def corr2d(x, k, padding=0, stride=1):
    # Flips the kernel first: true convolution, not the cross-correlation CNNs use.
    k = k[::-1, ::-1]
    x = np.pad(x, padding)
''' + CORR2D_WINDOWS,
        },
    },
    "02_multi_channel": {
        "no_channel_sum": {
            "conv2d_multi_in": '''def conv2d_multi_in(x, w, b=0.0):
    # One map per input channel, never added up.
    return np.stack([corr2d(x[c], w[c]) + b for c in range(x.shape[0])])
''',
        },
        "reversed_pairing": {
            "conv2d_multi_in": '''def conv2d_multi_in(x, w, b=0.0):
    # Kernel channel c meets input channel C-1-c ("channels go back in reverse").
    if w.shape[0] != x.shape[0]:
        raise ValueError(f"w has {w.shape[0]} channels, x has {x.shape[0]}")
    C = x.shape[0]
    return sum(corr2d(x[C - 1 - c], w[c]) for c in range(C)) + b
''',
        },
        "replaces_the_checks": {
            "conv2d_multi_in": '''# A hostile answer: switch the check off, then return nonsense. The test
# cell imports its checks afresh, so the replacement is never used.
import conv_lib.diagnose
conv_lib.diagnose.check_conv2d_multi_in = lambda *args, **kwargs: None

def conv2d_multi_in(x, w, b=0.0):
    return np.zeros((1, 1))
''',
        },
        "library_call": {
            "conv2d_multi_in": '''def conv2d_multi_in(x, w, b=0.0):
    # Right numbers, but from the library's ready-made convolution: the hidden checks refuse it.
    import conv_lib
    return conv_lib.conv2d(x[None], w[None], np.array([b]))[0, 0]
''',
        },
        "mean_not_sum": {
            "conv2d_multi_in": '''def conv2d_multi_in(x, w, b=0.0):
    # Averages the channel responses instead of summing them.
    if w.shape[0] != x.shape[0]:
        raise ValueError(f"w has {w.shape[0]} channels, x has {x.shape[0]}")
    responses = [corr2d(x[c], w[c]) for c in range(x.shape[0])]
    return sum(responses) / len(responses) + b
''',
        },
    },
    "03_many_filters": {
        "map_per_channel": {
            "conv2d_multi_out": '''def conv2d_multi_out(x, w, b):
    # The 8192 idea: one map per filter AND per channel.
    return np.stack([corr2d(x[c], w[f, c]) + b[f] for f in range(w.shape[0]) for c in range(x.shape[0])])
''',
        },
        "filters_summed": {
            "conv2d_multi_out": '''def conv2d_multi_out(x, w, b):
    # Adds up the filters for each input channel instead of the channels for each filter.
    return np.stack([sum(corr2d(x[c], w[f, c]) for f in range(w.shape[0])) for c in range(x.shape[0])])
''',
        },
        "missing_bias": {
            "conv_layer_params": '''def conv_layer_params(c_in, c_out, k):
    # Counts the weights only, not the one bias of each filter.
    return c_out * c_in * k * k
''',
        },
    },
    "04_conv_pool_stack": {
        "conv_without_padding": {
            "conv2d": '''def conv2d(x, w, b, stride=1, padding=0):
    # Forgets to pad: the maps shrink even when padding is asked for.
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w has {w.shape[1]} channels, x has {x.shape[1]}")
    return np.stack([
        np.stack([conv2d_multi_in(image, w[f], b[f], stride=stride) for f in range(w.shape[0])])
        for image in x
    ])
''',
        },
        "pool_across_channels": {
            "max_pool2d": '''def max_pool2d(x, size=2, stride=2):
    # Takes each window's maximum over all channels at once.
    N, C, H, W = x.shape
    Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, :, i * stride : i * stride + size, j * stride : j * stride + size]
            out[:, :, i, j] = window.max(axis=(1, 2, 3))[:, None]
    return out
''',
        },
        "conv_keeps_channels": {
            "stack_shapes": '''def stack_shapes(input_shape, layers):
    # Thinks a convolution keeps the number of channels it receives.
    C, H, W = input_shape
    shapes = []
    for layer in layers:
        if layer[0] == "conv":
            _, c_out, k, stride, padding = layer
            H, W = output_size(H, k, padding, stride), output_size(W, k, padding, stride)
        elif layer[0] == "pool":
            _, size, stride = layer
            H, W = output_size(H, size, 0, stride), output_size(W, size, 0, stride)
        shapes.append((C, H, W))
    return shapes
''',
        },
        "stride_ignored": {
            "receptive_field": '''def receptive_field(layers):
    # Adds k - 1 per layer, whatever the strides before it.
    field = 1
    for layer in layers:
        if layer[0] == "conv":
            field += layer[2] - 1
        elif layer[0] == "pool":
            field += layer[1] - 1
    return field
''',
        },
    },
    "05_vgg16": {
        "fc6_sees_512_inputs": {
            "vgg16_table": '''def vgg16_table(input_shape=(3, 224, 224)):
    # Gives fc6 one input per channel of the last pool (512) instead of all 512 x 7 x 7 numbers.
    C, H, W = input_shape
    rows, block, index = [], 1, 1
    for entry in models.VGG16_CONV_CONFIG:
        if entry == "M":
            H, W = H // 2, W // 2
            rows.append(dict(name=f"pool{block}", output_shape=(C, H, W), params=0, macs=0))
            block, index = block + 1, 1
        else:
            rows.append(dict(name=f"conv{block}_{index}", output_shape=(entry, H, W),
                             params=entry * (C * 9 + 1), macs=entry * H * W * C * 9))
            C, index = entry, index + 1
    n_in = C
    for number, n_out in zip((6, 7, 8), (4096, 4096, 1000)):
        rows.append(dict(name=f"fc{number}", output_shape=(n_out,), params=n_out * (n_in + 1), macs=n_in * n_out))
        n_in = n_out
    return rows
''',
        },
        "block_without_relu": {
            "vgg_block": '''def vgg_block(x, weights, biases):
    # Stacks the convolutions with no ReLU between them.
    for w, b in zip(weights, biases):
        x = conv2d(x, w, b, padding=1)
    return max_pool2d(x, 2, 2)
''',
        },
    },
    "06_learning_filters": {
        "db_of_one_image": {
            "conv2d_backward": '''def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    # Sums db over the first image only.
    dx, dw, _ = conv_lib.backward.conv2d_backward(dout, x, w, stride, padding)
    return dx, dw, dout[0].sum(axis=(1, 2))
''',
        },
        "one_gradient_for_all_channels": {
            "conv2d_backward": '''def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    # Gives every channel of a filter the same gradient: the sum of the right ones.
    dx, dw, db = conv_lib.backward.conv2d_backward(dout, x, w, stride, padding)
    return dx, np.broadcast_to(dw.sum(axis=1, keepdims=True), dw.shape).copy(), db
''',
        },
        "fan_in_from_filters": {
            "he_init": '''def he_init(c_out, c_in, k, rng):
    # Counts the filters instead of the inputs each filter sums.
    return rng.standard_normal((c_out, c_in, k, k)) * np.sqrt(2.0 / (c_out * k * k))
''',
        },
    },
    "07_groups_depthwise": {
        "groups_ignored": {"conv2d_grouped": GROUPS_IGNORED},
        "dealt_in_turn": {"conv2d_grouped": DEALT_IN_TURN},
        "no_pointwise": {"separable_params": NO_POINTWISE},
        "keras_reshaped": {"to_conv_lib_layout": KERAS_RESHAPED},
    },
}

# The misconception codes each wrong student's feedback must show.
EXPECTED_CODES = {
    "01_single_channel": {"flipped_kernel": ["[flipped-kernel]"], "padding_ignored": ["[output-size]"]},
    "02_multi_channel": {
        "mean_not_sum": ["[mean-not-sum]"],
        "no_channel_sum": ["[no-channel-sum]"],
        "reversed_pairing": ["[channel-pairing]"],
        "library_call": ["[reference-call]"],
        "replaces_the_checks": ["[output-size]"],
    },
    "03_many_filters": {
        "missing_bias": ["[missing-bias]"],
        "map_per_channel": ["[per-filter-per-channel]"],
        "filters_summed": ["[filters-summed]"],
    },
    "04_conv_pool_stack": {
        "conv_without_padding": ["[output-size]"],
        "pool_across_channels": ["[pool-mixes-channels]"],
        "conv_keeps_channels": ["[conv-keeps-channels]"],
        "stride_ignored": ["[stride-ignored]"],
    },
    "05_vgg16": {
        "fc6_sees_512_inputs": ["[fc-input-size]"],
        "block_without_relu": ["[relu-missing]"],
    },
    "06_learning_filters": {
        "db_of_one_image": ["[db-not-summed]"],
        "one_gradient_for_all_channels": ["[dw-channel-mixup]"],
        "fan_in_from_filters": ["[fan-in-wrong]"],
    },
    "07_groups_depthwise": {
        "groups_ignored": ["[groups-ignored]"],
        "dealt_in_turn": ["[wrong-group]"],
        "no_pointwise": ["[separable-no-pointwise]"],
        "keras_reshaped": ["[kernel-reshaped]"],
    },
}


def submissions_for(assignment, source_root, wrong):
    """{student: {grade_id: source}} for one assignment."""
    (source,) = solution_notebooks(assignment, source_root)
    correct = solution_sources(read_notebook(source))
    students = {"correct": correct, "blank": {}}
    for student, sources in wrong.items():
        students[student] = {**correct, **sources}
    return students


def check_assignment(course, assignment, wrong, codes):
    """Every expectation of the module docstring for one graded assignment;
    returns a list of failures (empty when all hold)."""
    (source_path,) = notebooks_in(course.sources[assignment])
    source = read_notebook(source_path)
    tests = points_of_tests(source)
    failures = []
    assert tests, f"{assignment} has no autograder test cells"

    def autograded(student):
        scores = course.scores(student, assignment)
        return {gid: scores[gid] for gid in tests}

    for gid, (score, most) in autograded("correct").items():
        if score != most:
            failures.append(f"{assignment}: correct student got {score}/{most} on {gid}")
    for gid, (score, most) in autograded("blank").items():
        if score != 0:
            failures.append(f"{assignment}: blank student got {score}/{most} on {gid}")

    for student, sources in wrong.items():
        lost = {f"{gid}_tests" for gid in sources}
        unknown = lost - set(tests)
        if unknown:
            failures.append(f"{assignment}/{student}: no autograder test cell {sorted(unknown)}")
        for gid, (score, most) in autograded(student).items():
            wanted = 0 if gid in lost else most
            if score != wanted:
                failures.append(f"{assignment}/{student}: {gid} scored {score}/{most}, expected {wanted}")
        feedback = html_text(course.feedback(student, assignment))
        for code in codes.get(student, []):
            if code not in feedback:
                failures.append(f"{assignment}/{student}: feedback does not name {code}")

    hidden = secret_lines(source, solutions=False)
    for student in course.students[assignment]:
        feedback = html_text(course.feedback(student, assignment))
        for marker in (BEGIN_HIDDEN, END_HIDDEN):
            if marker in feedback:
                failures.append(f"{assignment}/{student}: feedback shows the marker {marker}")
        for line in sorted(hidden & text_lines(feedback)):
            failures.append(f"{assignment}/{student}: feedback shows the hidden test line {line!r}")
    return failures


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every graded assignment of solutions/, and the toy assignment that
    tests this machinery itself, released, submitted and graded together (one
    nbgrader run per step for all of them). An assignment without graded
    cells (the lecture demo) has nothing to grade and is left out."""
    toy_root = tmp_path_factory.mktemp("toy") / "solutions"
    write_toy_assignment(toy_root)
    roots = {assignment: SOLUTIONS for assignment in graded_assignments(SOLUTIONS)}
    roots[TOY] = toy_root
    wrong = {**WRONG_SUBMISSIONS, TOY: TOY_WRONG}
    submissions = {a: submissions_for(a, root, wrong.get(a, {})) for a, root in roots.items()}
    return grade_course(tmp_path_factory.mktemp("course"), {a: root / a for a, root in roots.items()}, submissions)


@pytest.mark.parametrize("assignment", assignment_params(graded_only=True))
def test_nbgrader_grades_correct_blank_and_wrong_submissions(assignment, graded):
    failures = check_assignment(graded, assignment, WRONG_SUBMISSIONS.get(assignment, {}), EXPECTED_CODES.get(assignment, {}))
    assert not failures, "\n".join(failures)


def test_every_wrong_submission_names_its_misconceptions():
    for assignment, students in WRONG_SUBMISSIONS.items():
        assert set(students) == set(EXPECTED_CODES.get(assignment, {})), assignment
        assert not {"correct", "blank"} & set(students), f"{assignment}: those student ids are taken"
        for student, codes in EXPECTED_CODES[assignment].items():
            assert codes and all(code.startswith("[") and code.endswith("]") for code in codes), (assignment, student)


@pytest.mark.parametrize("assignment", sorted(WRONG_SUBMISSIONS))
def test_wrong_submissions_replace_solution_cells_that_exist(assignment):
    if assignment not in find_assignments(SOLUTIONS):
        pytest.skip(f"{assignment} is not in solutions/ yet")
    (source,) = solution_notebooks(assignment)
    cells = solution_sources(read_notebook(source))
    for student, sources in WRONG_SUBMISSIONS[assignment].items():
        assert set(sources) <= set(cells), f"{student}: no solution cell {sorted(set(sources) - set(cells))}"


# --- the machinery itself, on a toy assignment ----------------------------------------------


def test_the_pipeline_on_a_toy_assignment(graded):
    course = graded
    assert check_assignment(course, TOY, TOY_WRONG, TOY_CODES) == []

    # nbgrader's own totals: the written answer counts in max_score only.
    scores = course.scores("correct", TOY)
    assert scores["explain_double"] == (0, 2)
    assert sum(most for _, most in scores.values()) == 2 + 3 + 2
    # The wrong student's hidden-test failure reached the feedback as one line.
    feedback = html_text(course.feedback("square_is_double", TOY))
    assert "Misconception: [square-is-double] square(3) should be 9, not 6" in feedback
    assert "DATA[0]" not in feedback

    # The leak check does see hidden tests in a page that shows them: the
    # instructor's autograded notebook, rendered to HTML as nbgrader would.
    from nbconvert import HTMLExporter

    autograded = course.root / "autograded" / "square_is_double" / TOY / f"{TOY}.ipynb"
    page, _ = HTMLExporter().from_filename(str(autograded))
    hidden = secret_lines(read_notebook(course.sources[TOY] / f"{TOY}.ipynb"), solutions=False)
    assert hidden and hidden <= text_lines(html_text(page))
