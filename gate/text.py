"""Text that fits 100 columns: wrapped prose and wrapped shell commands, for `gate status` and the
offline preview's report alike.

Both are read in terminals, CI logs and pasted into reviews; a fixed width of 100 columns keeps them
readable in all three (the terminal's own width is unknown when the output is piped, as under make).
Standard library only: the commands and messages are ASCII, so a character is a column.
"""

from __future__ import annotations

import shlex
import textwrap

WIDTH = 100


def wrap(text: str, indent: str = "", hanging: str | None = None, width: int = WIDTH) -> list[str]:
    """`text` as lines of at most `width` columns: first line after `indent`, the rest after `hanging`.

    A word longer than a line (a long path, a URL) gets a line of its own and stays whole, past the
    width: it has to survive a copy. Existing line breaks are kept (a traceback, a multi-line message).
    """
    rest = indent + "  " if hanging is None else hanging
    lines: list[str] = []
    for i, paragraph in enumerate(text.splitlines() or [""]):
        first = indent if i == 0 else rest
        wrapped = textwrap.wrap(
            paragraph,
            width=width,
            initial_indent=first,
            subsequent_indent=rest,
            break_long_words=False,
            break_on_hyphens=False,
        )
        lines.extend(wrapped or [first.rstrip()])
    return lines


def shell_lines(command: str, indent: str = "", width: int = WIDTH) -> list[str]:
    """A shell command as lines ending in ` \\`, so a copy still pastes as one command.

    Breaks only between arguments, and keeps an option with its value (`--by <name>`) together. A
    comment is wrapped as comments: a backslash does not continue a comment line.
    """
    if command.startswith("#"):
        return wrap(command[1:].strip(), indent + "# ", indent + "#   ", width)
    try:
        words = shlex.split(command, posix=False)
    except ValueError:
        words = command.split()
    groups: list[str] = []
    for word in words:
        if groups and groups[-1].startswith("-") and " " not in groups[-1] and not word.startswith("-"):
            groups[-1] += " " + word
        else:
            groups.append(word)
    continuation = indent + "    "
    lines: list[str] = []
    current = ""
    for group in groups:
        if not current:
            current = indent + group
            continue
        candidate = f"{current} {group}"
        # Room for the " \\" that ends every line but the last.
        if len(candidate) + 2 > width:
            lines.append(current + " \\")
            current = continuation + group
        else:
            current = candidate
    lines.append(current)
    return lines
