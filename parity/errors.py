"""The one error type the parity tool reports to its user: a file, a line and what was expected."""

from __future__ import annotations

from pathlib import Path


class ParityInputError(Exception):
    """Bad or unsupported input (Bicep, parameters file, command line); the CLI prints it and exits 2."""

    def __init__(self, file: Path | str | None, line: int | None, message: str) -> None:
        self.file = Path(file) if file is not None else None
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.message}"
