"""Errors that reach the user as one line on stderr instead of a traceback."""


class UserError(Exception):
    """Bad input from the user: the CLI prints the message and exits with `code`."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code
