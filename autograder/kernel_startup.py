"""Run by IPython in every grading kernel before the notebook's first cell
(kernel.py copies it into the kernel's own IPython startup folder).

Grading draws no pictures. The checks never look at a picture, and drawing
them (matplotlib rendering each figure to a PNG, and an animation frame by
frame) was most of a notebook's grading time. Each figure the notebook shows
is still made, so code that makes one runs as in the learner's notebook; only
its rendering is left out (and the layout done ahead of rendering,
Figure.draw_without_rendering), and the graded notebook and the feedback page show
the line `note` where the picture was. The kernel's config (kernel.py) turns
off the inline backend's PNG output; here a figure and an animation are told
how to show themselves as that line, and pyplot's redraw of every open
figure after each cell (which renders them, for a screen there is not) is
left out.

Everything is done inside one function that is deleted afterwards: the
notebook's namespace gains no name (a notebook that forgot an import fails
here as it does in the learner's kernel).
"""


def _conv_course_grading_draws_no_pictures():
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        return
    from matplotlib import animation, figure, pyplot

    note = "[a picture: grading does not draw pictures; the learner's own notebook shows it]"

    def show_note(self, printer, cycle):
        printer.text(note)

    def note_as_html(self, *args, **kwargs):
        self._draw_was_started = True  # no warning that the animation was never drawn
        return f"<p><em>{note}</em></p>"

    def draw_nothing(*args, **kwargs):
        return None

    figure.Figure._repr_pretty_ = show_note
    figure.Figure.draw_without_rendering = draw_nothing  # a layout for pictures nobody draws
    animation.Animation.to_jshtml = note_as_html
    animation.Animation.to_html5_video = note_as_html
    animation.Animation._repr_html_ = note_as_html
    pyplot.draw_all = draw_nothing  # what pyplot's after-each-cell hook calls, looked up each time


_conv_course_grading_draws_no_pictures()
del _conv_course_grading_draws_no_pictures
