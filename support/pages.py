"""Realistic cn.nytimes.com article pages built from snapshot files, for tests and benches.

The page carries the furniture of a real article page (navigation, ads, asides, related
lists, scripts, subscription box) around the article's own blocks.
"""

from __future__ import annotations

import html as html_lib

from monitor.article import Article

e = html_lib.escape

NAV = (
    '<nav class="nav-header"><ul><li><a href="/china/">中国</a></li><li><a href="/world/">国际'
    '</a></li><li><a href="/business/">商业与经济</a></li><li><a href="/opinion/">观点与评论</a>'
    "</li></ul></nav>"
)
AD = '<div class="big_ad"><span>广告</span><script>googletag.cmd.push(function(){});</script></div>'
ASIDE = (
    '<aside class="article-body-aside"><h4>相关报道</h4><ul><li><a href="/x/">一篇相关文章的'
    "标题</a></li></ul></aside>"
)
RELATED = (
    '<div class="related-articles"><h3>最受欢迎</h3><ol><li><a href="/a/">热门文章一</a></li>'
    '<li><a href="/b/">热门文章二</a></li></ol></div>'
)
SUBSCRIBE = (
    '<div class="subscribe-box"><p>订阅《纽约时报》中文网每日电邮</p><form><input name="e">'
    "<button>订阅</button></form></div>"
)


def nyt_page(
    art: Article,
    *,
    token: str = "",
    dual: bool = False,
    charset: str = "utf-8",
    hard: bool = False,
) -> str:
    """A live page for `art`; `token` varies bytes that are not article text.

    `hard` puts the varying bytes where the live site puts them and a byte-level fast
    path cannot step around them: in the article element's attributes (another class,
    another attribute order), a rotating ad between the paragraphs, and inline scripts
    with timestamps and render comments inside the paragraphs themselves."""
    parts = [
        f'<!DOCTYPE html><html lang="zh-hans"><head><meta charset="{charset}">',
        f"<title>{e(art.title)} - 纽约时报中文网</title>",
        f'<link rel="canonical" href="{e(art.url)}">',
        f'<meta name="byline" content="{e(art.byline)}">',
        f'<script>window.__token="{e(token)}";var dataLayer=[];</script></head><body>',
        NAV,
        AD.replace("广告", f"广告{e(token)}"),
        (
            f'<main><article data-render="{e(token)}" class="article-content font-normal">'
            if hard
            else '<main><article class="article-content">'
        )
        + '<div class="article-header"><header>',
        f"<h1>{e(art.title)}</h1>",
    ]
    if dual:
        parts.append('<h1 class="en-title">An English Headline</h1>')
    parts.append('<div class="byline">')
    if art.byline:
        parts.append(f"<address>{e(art.byline)}</address>")
    parts.append(f'<time pudate="{e(art.pudate)}" datetime="{e(art.pudate)}">{e(art.date)}</time>')
    parts.append("</div></header></div>")
    if art.lead_image:
        img = art.lead_image
        src = img.src.replace(".jpg", "-master1050.jpg")
        parts.append(
            f'<figure class="article-span-photo"><img src="{e(src)}" width="1050">'
            f"<figcaption>{e(img.caption)} <cite>{e(img.credit)}</cite></figcaption>"
            "</figure>"
        )
    parts.append('<section class="article-body"><div class="article-partial">')
    for index, block in enumerate(art.body):
        if index and index % 6 == 0:
            parts.append("</div>" + AD + ASIDE + '<div class="article-partial">')
        elif hard and index % 3 == 0:
            parts.append(f'<div class="big_ad"><span>广告 {e(token)}</span></div>')
        parts.append(_block_html(block.kind, block.text, block.src, dual, token if hard else None))
    parts.append("</div></section>")
    if art.footer:
        parts.append(
            '<footer class="author-info">'
            + "".join(f"<p>{e(line)}</p>" for line in art.footer)
            + "</footer>"
        )
    parts += [
        "</article></main>",
        RELATED,
        SUBSCRIBE,
        '<footer class="copy-footer">&copy; 2025 The New York Times Company.</footer>',
        "<script>console.log(1)</script></body></html>",
    ]
    return "\n".join(parts)


def _block_html(kind: str, text: str, src: str, dual: bool, token: str | None = None) -> str:
    if kind == "img":
        return (
            f'<figure class="article-inline-photo"><img src="{e(src)}">'
            f"<figcaption>{e(text)}</figcaption></figure>"
        )
    inner = f"<b>{e(text)}</b>" if kind == "h" else e(text)
    if token is not None:  # what rendering leaves inside a paragraph, different each time
        inner += f'<!-- rendered {e(token)} --><script>window.__t="{e(token)}";</script>'
    paragraph = f'<div class="article-paragraph">\n  {inner}\n</div>'
    if not dual:
        return paragraph
    english = '<div class="article-paragraph">An English paragraph.</div>'
    return (
        f'<div class="row"><div class="col-lg-6">{english}</div>'
        f'<div class="col-lg-6">{paragraph}</div></div>'
    )


def nyt_main_page(title: str, body_html: str, *, token: str = "") -> str:
    """A www.nytimes.com/zh-hans page around the feed's articleBody section."""
    return "\n".join(
        [
            '<!DOCTYPE html><html lang="zh-hans"><head><meta charset="utf-8">',
            f"<title>{e(title)} - 纽约时报</title>",
            '<meta name="byline" content="By The New York Times">',
            f'<script>window.__preloadedData={{"token":"{e(token)}"}};</script></head><body>',
            '<div id="app"><header class="css-masthead">',
            NAV,
            '</header><main id="site-content"><article id="story"><header>',
            f'<h1 data-testid="headline">{e(title)}</h1>',
            '<p class="css-byline">By The New York Times</p></header>',
            body_html,
            '<div class="bottom-of-article">' + SUBSCRIBE + "</div></article>",
            RELATED,
            "</main></div><script>console.log(2)</script></body></html>",
        ]
    )
