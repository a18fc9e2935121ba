"""What a condition is: the limits on its text and values, the checked `Condition`, and the
`ConditionError` an admin reads, with the character offset in the source it points at."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

MAX_LENGTH = 500
MAX_DEPTH = 32
MAX_NODES = 200
MAX_TEXT_CONSTANT = 200
MAX_NUMBER_CONSTANT = 10**15
MAX_NUMBER = 10**30  # any intermediate result; keeps int arithmetic and round() cheap
MAX_TEXT = 10_000  # any intermediate text
FUNCTIONS = ("len", "abs", "min", "max", "round")
ROW_OPERATORS = ("==", "!=", ">", ">=", "<", "<=", "in", "not in")


class ConditionError(ValueError):
    """A condition is refused or cannot be evaluated; `str()` is a sentence for the admin.

    `position` is the 0-based character offset in `expression` where the problem is, if known.
    """

    def __init__(
        self, message: Any, expression: str | None = None, position: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.position = position


@dataclass(frozen=True)
class Condition:
    """A checked expression: `source` (stripped), the names it reads and its checked tree.

    Conditions are stored as their source; one built by hand (no tree) is checked again by
    `evaluate`, with `names_used` as the names it may read.
    """

    source: str
    names_used: frozenset[str]
    tree: ast.Expression | None = field(default=None, repr=False, compare=False)


def _line_start(source: str, lineno: int) -> int:
    """Character offset of line `lineno` (1-based), splitting lines the way the tokenizer does."""
    start = 0
    for match in re.finditer(r"\r\n|\r|\n", source):
        if lineno <= 1:
            break
        start, lineno = match.end(), lineno - 1
    return start


def _node_position(source: str, node: ast.AST) -> int | None:
    lineno, col = getattr(node, "lineno", None), getattr(node, "col_offset", None)
    if lineno is None or col is None:
        return None
    start = _line_start(source, lineno)
    return start + len(source[start:].encode()[:col].decode(errors="ignore"))
