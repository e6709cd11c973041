"""User-facing errors.

Anything a user can get wrong (a path, a file, a column, a recipe key) raises `BadInput` with one
line that names the file, row or column. The CLI prints that line and exits with status 2; a
traceback appears only with `--debug`.
"""

from __future__ import annotations


class BadInput(Exception):
    """Bad input from the user: one clear line, exit status 2, nothing written."""

    exit_code = 2

    def __init__(self, message: str):
        # One line, always: multi-line messages break the contract with scripts that grep stderr.
        super().__init__(" ".join(str(message).split()))


class MissingExtra(BadInput):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, module: str, extra: str, feature: str):
        super().__init__(
            f"{feature} needs the Python package '{module}', which is not installed: "
            f"pip install 'distillery[{extra}]'"
        )


def require(module: str, extra: str, feature: str):
    """Import an optional heavy dependency lazily, or raise an error that names its extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtra(module, extra, feature) from exc


class Notice(UserWarning):
    """Something a library's caller should tell the user, though nothing failed (a stale lock taken
    over). Libraries never print: they issue it with `warnings.warn`, so the caller decides how it is
    shown or recorded (`warnings.catch_warnings(record=True)`); the CLI prints one `warning:` line."""
