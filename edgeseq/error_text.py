"""A converter's or loader's exception as one line that keeps its cause.

Keras and the TFLite converter put the reason deep inside long messages: a custom class
Keras cannot find is named after a paragraph of advice and before a dump of the whole
config ("Could not locate class 'ScaleShift'" sits 500 characters in); an MLIR error names
the op ('tf.TensorListReserve' op …) after a location. Cutting at the first N characters loses
exactly that, so the cut is made around the first known cause instead.
"""

from __future__ import annotations

import re

LIMIT = 240

#: What a reader needs from a long message, most specific first.
CAUSES = [
    re.compile(r"Could not locate (?:class|function) '[^']+'"),
    re.compile(r"Unknown (?:layer|object|activation|loss|metric)[^:'\"]*[:]? ?['\"]?[\w.>]+"),
    re.compile(r"'[\w.]+' op [^.;]+"),
    re.compile(r"Op type not registered '[^']+'"),
    re.compile(r"(?:No such file or directory|File not found)[^.]*"),
    re.compile(r"(?:[Ll]ayer|[Oo]p) ['\"][^'\"]+['\"][^.;]*"),
    re.compile(r"Exception encountered: [^.]+"),
]
#: Tails that only repeat the input (Keras appends the full object config).
NOISE = re.compile(r"\s*(?:Full object config|config=|Received: inputs?=).*$")


def cause(exc: BaseException | str, limit: int = LIMIT) -> str:
    """One line of at most `limit` characters, starting at the cause when the message is
    long, with … where text was cut."""
    text = " ".join(str(exc).split()) or (type(exc).__name__ if isinstance(exc, BaseException) else "")
    if len(text) <= limit:
        return text
    for pattern in CAUSES:
        match = pattern.search(text)
        if match:
            start = match.start()
            clipped = NOISE.sub("", text[start:]) or match.group(0)
            return ("…" if start else "") + _clip(clipped, limit - 1)
    return _clip(NOISE.sub("", text) or text, limit)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    sentence = cut.rfind(". ")
    return (cut[:sentence + 1] if sentence > limit // 2 else cut.rstrip()) + "…"
