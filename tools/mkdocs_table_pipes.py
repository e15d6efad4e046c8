"""mkdocs hook: a pipe inside a code span in a table cell is written `a\\|b`, which GitHub needs
(it splits a row on every unescaped pipe) and Python-Markdown renders with the backslash
(mkdocs/mkdocs#2761, Python-Markdown/markdown#436). The docs keep GitHub's spelling; the
site drops the backslash from rendered code."""

import re

_CODE = re.compile(r"<code>[^<]*</code>")


def on_page_content(html, **_):
    return _CODE.sub(lambda m: m.group(0).replace("\\|", "|"), html)
