"""The one exception users see: a problem with their input that they can fix.

The CLI prints its message (file, problem, what to do) and exits non-zero, with no
traceback. Anything else that escapes is a bug in compare.
"""


class CompareError(Exception):
    """A bad input: the message names the file, the problem and the fix."""
