"""The Conv Channels autograder: nbgrader configuration and, in a later step, the `conv-course` command."""
