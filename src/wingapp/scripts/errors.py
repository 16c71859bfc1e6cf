"""The one error a command raises to stop with a message."""


class CommandError(Exception):
    """A command that cannot go on; the message says what to do."""
