"""Just enough of GitHub's `${{ }}` expression language to evaluate the workflows' own stage,
concurrency-group and environment expressions against a given event, so tests run them as written.

Supported: 'strings', numbers, context paths (github.event.inputs.stage), ==, !=, !, &&, ||,
parentheses, format() and startsWith(). `a && b || c` returns operands, as GitHub's does.
"""

from __future__ import annotations

import re

TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|(\d+)|([A-Za-z_][\w.-]*)|(==|!=|&&|\|\||[()!,]))")


def evaluate(template: str, context: dict) -> str:
    """A string with `${{ ... }}` parts, each replaced by its value."""
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(_Parser(m.group(1), context).run()), template, flags=re.S)


class _Parser:
    def __init__(self, text: str, context: dict) -> None:
        self.tokens, self.context, position = [], context, 0
        while position < len(text.rstrip()):
            match = TOKEN.match(text, position)
            if not match:
                raise ValueError(f"cannot read {text[position:]!r}")
            self.tokens.append(match.groups())
            position = match.end()
        self.index = 0

    def run(self):
        value = self._or()
        if self.index != len(self.tokens):
            raise ValueError("trailing tokens")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.index][3] if self.index < len(self.tokens) else None

    def _take(self, operator: str) -> bool:
        if self._peek() == operator:
            self.index += 1
            return True
        return False

    def _or(self):
        value = self._and()
        while self._take("||"):
            right = self._and()
            value = value or right
        return value

    def _and(self):
        value = self._compare()
        while self._take("&&"):
            right = self._compare()
            value = value and right
        return value

    def _compare(self):
        value = self._unary()
        for operator in ("==", "!="):
            if self._take(operator):
                right = self._unary()
                same = str(value).lower() == str(right).lower()  # GitHub compares strings ignoring case
                return same if operator == "==" else not same
        return value

    def _unary(self):
        if self._take("!"):
            return not self._unary()
        if self._take("("):
            value = self._or()
            assert self._take(")")
            return value
        string, number, name, _ = self.tokens[self.index]
        self.index += 1
        if string is not None:
            return string[1:-1].replace("''", "'")
        if number is not None:
            return int(number)
        if self._take("("):
            arguments = [self._or()]
            while self._take(","):
                arguments.append(self._or())
            assert self._take(")")
            return _call(name, arguments)
        return _lookup(self.context, name)


def _call(name: str, arguments: list):
    if name == "format":
        return re.sub(r"\{(\d+)\}", lambda m: str(arguments[1 + int(m.group(1))]), arguments[0])
    if name == "startsWith":
        return str(arguments[0]).lower().startswith(str(arguments[1]).lower())
    raise ValueError(f"function {name} is not supported")


def _lookup(context: dict, path: str):
    value = context
    for part in path.split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return value
