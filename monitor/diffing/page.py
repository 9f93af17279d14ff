"""One look for every HTML the monitor writes: the diff page and the email alerts.

Styles are inline on each element: mail clients drop or rewrite `<style>` blocks
unevenly, and a page written for a browser looks the same with them inline. The
layout is one narrow column, readable on a phone.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

FONT = (
    "-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,"
    "'PingFang SC','Hiragino Sans GB','Noto Sans CJK SC','Microsoft YaHei',sans-serif"
)

# A struck-through single CJK character must stay readable and noticeable: the
# background carries the meaning, a thick line-through in a contrasting colour shows
# through the glyph's own strokes, and padding keeps a one-character mark wide.
STYLE = {
    "body": (
        f"margin:0;padding:16px;background:#ffffff;color:#1f2328;font-family:{FONT};"
        "font-size:16px;line-height:1.7;-webkit-text-size-adjust:100%;"
    ),
    "main": "max-width:720px;margin:0 auto;",
    "title": "font-size:20px;line-height:1.35;margin:0 0 8px;font-weight:600;",
    "link": "color:#0b57d0;text-decoration:underline;word-break:break-word;",
    "labels": "margin:0 0 6px;",
    "label": (
        "display:inline-block;margin:0 4px 4px 0;padding:1px 8px;border-radius:10px;"
        "background:#eaeef2;color:#24292f;font-size:13px;line-height:1.6;"
    ),
    "meta": "margin:0 0 12px;color:#57606a;font-size:14px;",
    "block": (
        "margin:12px 0;padding:8px 12px;border-left:3px solid #d0d7de;background:#f6f8fa;"
        "border-radius:4px;"
    ),
    "where": "margin:0 0 4px;color:#57606a;font-size:13px;",
    "where_cell": "padding:8px 8px 0;color:#57606a;font-size:13px;",
    "side": "margin:2px 0;word-break:break-word;",
    "side_label": "color:#57606a;font-size:13px;",
    "empty": "color:#57606a;font-style:italic;",
    "del": (
        "background:#ffcecb;color:#82071e;text-decoration:line-through;"
        "text-decoration-color:#82071e;text-decoration-thickness:2px;"
        "padding:0 3px;border-radius:3px;"
    ),
    "ins": (
        "background:#aceebb;color:#055d20;text-decoration:none;padding:0 3px;border-radius:3px;"
    ),
    "note": "margin:12px 0;color:#57606a;font-size:14px;",
    "code": "font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;",
    "rule": "border:0;border-top:1px solid #d0d7de;margin:24px 0;",
    "table": "width:100%;border-collapse:collapse;table-layout:fixed;margin:12px 0;",
    "th": (
        "text-align:left;padding:4px 8px;color:#57606a;font-size:13px;font-weight:600;"
        "border-bottom:1px solid #d0d7de;"
    ),
    "cell": (
        "vertical-align:top;width:50%;padding:6px 8px;border-bottom:1px solid #eaeef2;"
        "word-break:break-word;"
    ),
}


def attr(name: str) -> str:
    """The inline style attribute of one kind of element."""
    return f' style="{STYLE[name]}"'


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def deleted(text: str) -> str:
    return f"<del{attr('del')}>{esc(text)}</del>"


def inserted(text: str) -> str:
    return f"<ins{attr('ins')}>{esc(text)}</ins>"


def title_link(title: str, url: str) -> str:
    link = f'<a href="{esc(url)}"{attr("link")}>{esc(title)}</a>'
    return f"<h1{attr('title')}>{link}</h1>"


def labels(names: Iterable[str]) -> str:
    spans = "".join(f"<span{attr('label')}>{esc(n)}</span>" for n in names)
    return f"<p{attr('labels')}>{spans}</p>"


def paragraph(text: str, style: str = "meta") -> str:
    return f"<p{attr(style)}>{esc(text)}</p>"


def rule() -> str:
    return f"<hr{attr('rule')}>"


def document(title: str, body: str) -> str:
    """A complete page around body HTML: doctype, charset, a phone-sized viewport."""
    return (
        "<!DOCTYPE html>\n"
        '<html>\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n</head>\n"
        f"<body{attr('body')}>\n<div{attr('main')}>\n{body}</div>\n</body>\n</html>\n"
    )
