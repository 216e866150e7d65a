"""A file's text, read with errors a user can act on: missing, a folder, too large, not UTF-8."""

from __future__ import annotations

from pathlib import Path

from optimizer.errors import FieldProblem, ScenarioError

MAX_FILE_BYTES = 5 * 1024 * 1024


def read_text(path: Path) -> str:
    """Return a file's UTF-8 text, or raise ScenarioError saying why it cannot be read."""
    try:
        if not path.exists():
            raise ScenarioError(str(path), [FieldProblem("file", "no such file")])
        if not path.is_file():
            kind = "a directory" if path.is_dir() else "a special file (pipe, device)"
            message = f"expected a file, got {kind}"
            raise ScenarioError(str(path), [FieldProblem("file", message)])
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            limit = f"{MAX_FILE_BYTES:,} bytes ({MAX_FILE_BYTES // (1024 * 1024)} MiB)"
            message = f"too large: expected at most {limit}, got {size:,} bytes"
            raise ScenarioError(str(path), [FieldProblem("file", message)])
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(str(path), [FieldProblem("file", exc.strerror or str(exc))]) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"expected UTF-8 text, got byte 0x{raw[exc.start]:02x} at byte {exc.start}"
        if _is_gb18030(raw):
            message += " (the file looks like GBK/GB18030)"
        message += ": save the file as UTF-8"
        raise ScenarioError(str(path), [FieldProblem("file", message, line)]) from None


def _is_gb18030(raw: bytes) -> bool:
    """Whether bytes that are not UTF-8 read as GBK/GB18030, the likeliest other encoding."""
    try:
        raw.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return True
