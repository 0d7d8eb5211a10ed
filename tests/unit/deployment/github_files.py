"""Reading GitHub Actions' step-output file the way its runner does, for tests."""

from __future__ import annotations


def read_github_output(text: str) -> dict[str, str]:
    """`key=value` lines, and `key<<DELIMITER` blocks up to a line that is exactly the delimiter;
    a later value for a key wins."""
    outputs, lines = {}, iter(text.split("\n"))
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            block = []
            for inner in lines:
                if inner == delimiter:
                    break
                block.append(inner)
            outputs[key] = "\n".join(block)
        elif "=" in line:
            key, value = line.split("=", 1)
            outputs[key] = value
    return outputs
