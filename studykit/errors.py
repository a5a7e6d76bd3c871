"""Errors that reach the user as one line on stderr instead of a traceback."""


class UserError(Exception):
    """Bad input from the user: the CLI prints the message and exits with `code`."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def require_file(path, what: str = "file") -> None:
    """Raise a UserError unless `path` is an existing file; a folder is told apart from a missing path."""
    if path.is_dir():
        raise UserError(f"{path}: is a folder, not a file")
    if not path.is_file():
        raise UserError(f"{path}: no such {what}")
