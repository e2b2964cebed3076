"""Whether Python source names a module or a routine in its code, not only in its strings and comments."""

from __future__ import annotations

import io
import tokenize


def names_in_code(source: bytes, name: str) -> bool:
    """Whether Python source uses ``name`` as a name (``import torch``, ``torch.tensor``), not only in a
    string or a comment (a docstring that says "like torch does"). Source that does not tokenize counts
    as naming it whenever its bytes hold it."""
    if name.encode() not in source:
        return False
    try:
        return any(token.type == tokenize.NAME and token.string == name
                   for token in tokenize.tokenize(io.BytesIO(source).readline))
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, ValueError):
        return True
