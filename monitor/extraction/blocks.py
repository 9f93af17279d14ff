"""Walk an HTML tree in reading order and turn it into article blocks.

Shared by every extractor: it knows paragraphs, sub-heads, figures, stray images
with `<small>` captions (older feed layouts, broken nesting), bylines and footers,
and it drops page furniture (scripts, navigation, asides, ads, related lists).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from selectolax.lexbor import LexborNode

from monitor.article import Article, Block, Image, clean_text

NOISE_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "nav",
        "aside",
        "iframe",
        "form",
        "button",
        "input",
        "select",
        "textarea",
        "object",
        "embed",
        "video",
        "audio",
        "canvas",
        "head",
        "title",
        "meta",
        "link",
        "hr",
    }
)
NOISE_CLASS = re.compile(
    r"(?:^|[\s_-])(?:big_ad|ad|ads|advert\w*|article-body-aside|related[\w-]*|copy-footer|"
    r"nav[\w-]*|subscri\w*|newsletter\w*|promo\w*|share[\w-]*|social[\w-]*|"
    r"apple-store-icon|google-play-icon|download-apk|comments?)(?:$|[\s_-])",
    re.IGNORECASE,
)
INLINE_TAGS = frozenset(
    {
        "a",
        "span",
        "b",
        "i",
        "em",
        "strong",
        "u",
        "s",
        "sup",
        "sub",
        "mark",
        "abbr",
        "font",
        "cite",
        "q",
        "code",
        "del",
        "ins",
        "time",
        "label",
        "wbr",
        "bdi",
        "bdo",
        "tt",
        "big",
    }
)
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
FEED_ADVERT = re.compile(r"^\s*获取更多RSS")
OLD_BYLINE = re.compile(r"^(?P<byline>.*)\n\s*(?P<stamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*$", re.S)
NYT_RENDITION = re.compile(
    r"-(?:articleLarge|articleInline|articleSmall|master\d+|superJumbo|jumbo|"
    r"mobileMasterAt\dx|facebookJumbo|threeByTwo\w*|mediumThreeByTwo\d+|square\d+|"
    r"mediumSquare\w*|thumbStandard|thumbLarge|videoSixteenByNine\w*|hpLarge|hpSmall|"
    r"popup|blog\d+|largeHorizontal\d+|verticalTwoByThree\d+|moth|filmstrip|"
    r"horizontalMediumAt2X|articleLarge2x)(?:-v\d+)?(?=\.\w+$)"
)
FOOTER_MARKERS = ("翻译：", "點擊查看本文英文版", "点击查看本文英文版", "翻譯：")


def image_identity(src: str) -> str:
    """Undo the weserv proxy, drop query and NYT rendition size: one id per photo."""
    src = src.strip()
    if not src:
        return ""
    parts = urlsplit(src if "//" in src else "https://" + src.lstrip("/"))
    host = (parts.hostname or "").lower()
    if host.endswith("weserv.nl"):
        inner = parse_qs(parts.query).get("url", [""])[0]
        if inner:
            return image_identity(inner if "//" in inner else "https://" + inner)
    path = parts.path
    if host.endswith("nyt.com"):
        path = NYT_RENDITION.sub("", path)
        host = "static01.nyt.com" if host.startswith("static") else host
    return f"https://{host}{path}"


def element_text(node: LexborNode) -> str:
    """Text of a subtree with <br> as a newline, skipping noise; not yet cleaned."""
    out: list[str] = []
    _collect_text(node, out)
    return "".join(out)


def _collect_text(node: LexborNode, out: list[str]) -> None:
    child = node.child
    while child is not None:
        tag = child.tag
        if tag == "-text":
            out.append(child.text_content or "")
        elif tag == "br":
            out.append("\n")
        elif tag in ("p", "div", "li") and out:
            out.append("\n")
            _collect_text(child, out)
        elif tag not in NOISE_TAGS and tag != "-comment":
            _collect_text(child, out)
        child = child.next


def is_noise(node: LexborNode) -> bool:
    if node.tag in NOISE_TAGS:
        return True
    attrs = node.attributes
    classes = attrs.get("class") or ""
    if classes and NOISE_CLASS.search(classes):
        return True
    if attrs.get("aria-hidden") == "true" or "hidden" in attrs:
        return True
    # The text a reader sees, as extraction reads it: scripts and styles skipped.
    return node.tag == "div" and bool(FEED_ADVERT.match(element_text(node)))


@dataclass
class Collected:
    """What a walk found; extractors fill the title and metadata around it."""

    byline: str = ""
    date: str = ""
    pudate: str = ""
    lead_image: Image | None = None
    body: list[Block] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    footer_seen: bool = False

    def to_article(self, title: str, url: str) -> Article:
        body, footer = finish(self)
        return Article(
            title=clean_text(title),
            byline=self.byline,
            date=self.date,
            pudate=self.pudate,
            lead_image=self.lead_image,
            body=body,
            footer=footer,
            url=url,
        )


class BlockWalker:
    def __init__(self) -> None:
        self.found = Collected()
        self._inline: list[str] = []

    def walk_children(self, node: LexborNode) -> Collected:
        child = node.child
        while child is not None:
            self.visit(child)
            child = child.next
        self.flush()
        return self.found

    # -- dispatch -----------------------------------------------------------
    def visit(self, node: LexborNode) -> None:
        tag = node.tag
        if tag == "-text":
            self._inline.append(node.text_content or "")
        elif tag == "-comment" or is_noise(node):
            return
        elif tag == "br":
            self._inline.append("\n")
        elif tag in INLINE_TAGS and not _has_block_content(node):
            self.inline_element(node)
        elif tag == "p":
            self.paragraph(node)
        elif tag in HEADING_TAGS:
            self.flush()
            self.add_text_block("h", element_text(node))
        elif tag == "figure":
            self.flush()
            self.figure(node)
        elif tag in ("img", "picture"):
            self.flush()
            self.add_image(_image_src(node), "")
        elif tag == "address":
            self.flush()
            self.found.byline = self.found.byline or normalize_byline(element_text(node))
        elif tag == "footer":
            self.flush()
            self.footer(node)
        elif tag == "small":
            self.small(node)
        else:
            self.container(node)

    # -- handlers -------------------------------------------------------------
    def container(self, node: LexborNode) -> None:
        self.flush()
        if node.tag == "div" and self._old_byline(node):
            return
        child = node.child
        while child is not None:
            self.visit(child)
            child = child.next
        self.flush()

    def inline_element(self, node: LexborNode) -> None:
        if node.tag == "time" and "pudate" in node.attributes:
            self.found.pudate = node.attributes.get("pudate") or ""
            self.found.date = clean_text(element_text(node))
            return
        self._inline.append(element_text(node))

    def paragraph(self, node: LexborNode) -> None:
        self.flush()
        images = [n for n in node.traverse() if n.tag in ("img", "picture") and n is not node]
        if images:
            self._paragraph_with_images(node)
            return
        kind = "h" if _is_subhead(node) else "p"
        self.add_text_block(kind, element_text(node))

    def _paragraph_with_images(self, node: LexborNode) -> None:
        # <p><img><small>caption</small></p>, possibly with text around it.
        caption_parts: list[str] = []
        text_parts: list[str] = []
        src = ""
        for child in _children(node):
            if child.tag in ("img", "picture"):
                src = src or _image_src(child)
            elif child.tag in ("small", "figcaption"):
                caption_parts.append(element_text(child))
            elif child.tag == "-text":
                text_parts.append(child.text_content or "")
            elif not is_noise(child):
                inner_src = _image_src(child) if child.css_first("img") else ""
                if inner_src:
                    src = src or inner_src
                    caption_parts.append(element_text(child))
                else:
                    text_parts.append(element_text(child))
        self.add_image(src, " ".join(caption_parts))
        self.add_text_block("p", "".join(text_parts))

    def small(self, node: LexborNode) -> None:
        # Old layouts put an image's caption in a <small> after it.
        last = self.found.body[-1] if self.found.body else None
        text = clean_text(element_text(node))
        if not "".join(self._inline).strip():
            if last is not None and last.kind == "img" and not last.text:
                self.found.body[-1] = Block("img", text, last.src, last.credit)
                return
            lead = self.found.lead_image
            if last is None and lead is not None and not lead.caption:
                self.found.lead_image = Image(lead.src, text, lead.credit)
                return
        self._inline.append(element_text(node))

    def figure(self, node: LexborNode) -> None:
        caption_node = node.css_first("figcaption")
        caption, credit = "", ""
        if caption_node is not None:
            cite = caption_node.css_first("cite")
            if cite is not None:
                credit = clean_text(element_text(cite))
                cite.decompose()
            caption = clean_text(element_text(caption_node))
            if "Credit..." in caption:
                caption, _, credit = (clean_text(x) for x in caption.partition("Credit..."))
        img = node.css_first("img, picture, source")
        self.add_image(_image_src(img) if img is not None else "", caption, credit)

    def footer(self, node: LexborNode) -> None:
        self.found.footer_seen = True
        for line in element_text(node).split("\n"):
            text = clean_text(line)
            if text:
                self.found.footer.append(text)

    # -- emitting ---------------------------------------------------------------
    def flush(self) -> None:
        if self._inline:
            text = "".join(self._inline)
            self._inline.clear()
            self.add_text_block("p", text)

    def add_text_block(self, kind: str, raw: str) -> None:
        # Keep <br> breaks as "\n" until footer detection has run; see finish().
        lines = [clean_text(x) for x in raw.split("\n")]
        text = "\n".join(x for x in lines if x)
        if text:
            self.found.body.append(Block("h" if kind == "h" else "p", text))

    def add_image(self, src: str, caption: str, credit: str = "") -> None:
        src = image_identity(src)
        caption = clean_text(caption)
        if not src and not caption:
            return
        has_text_before = any(b.kind != "img" for b in self.found.body)
        if self.found.lead_image is None and not has_text_before and not self.found.body:
            self.found.lead_image = Image(src, caption, credit)
        else:
            self.found.body.append(Block("img", caption, src, credit))

    def _old_byline(self, node: LexborNode) -> bool:
        # 2020-21 feed layout: <div><i>AUTHOR<br>2020-10-13 14:38:42</i></div>
        if self.found.body or self.found.byline:
            return False
        match = OLD_BYLINE.match(element_text(node).strip())
        if match is None:
            return False
        self.found.byline = normalize_byline(match.group("byline"))
        stamp = match.group("stamp")
        self.found.pudate = stamp
        year, month, day = (int(x) for x in stamp[:10].split("-"))
        self.found.date = f"{year}年{month}月{day}日"
        return True


def finish(found: Collected) -> tuple[tuple[Block, ...], tuple[str, ...]]:
    """Split trailing author/translator lines into the footer when the layout has no
    <footer>, then fold the kept <br> breaks of each block into spaces."""
    body = list(found.body)
    footer = list(found.footer)
    if not found.footer_seen:
        start = _footer_start(body)
        if start is not None:
            for block in body[start:]:
                footer.extend(x for x in block.text.split("\n") if x)
            body = body[:start]
    folded = tuple(Block(b.kind, clean_text(b.text), b.src, b.credit) for b in body)
    return folded, tuple(clean_text(x) for x in footer if clean_text(x))


def _footer_start(body: list[Block]) -> int | None:
    for index in range(len(body) - 1, max(len(body) - 4, -1), -1):
        block = body[index]
        if block.kind == "p" and any(marker in block.text for marker in FOOTER_MARKERS):
            return index
    return None


def normalize_byline(raw: str) -> str:
    names: list[str] = []
    for part in re.split(r"[,，、]|\n", raw):
        name = clean_text(part)
        if name and name not in names:
            names.append(name)
    return ", ".join(names)


def _children(node: LexborNode) -> list[LexborNode]:
    out = []
    child = node.child
    while child is not None:
        out.append(child)
        child = child.next
    return out


def _has_block_content(node: LexborNode) -> bool:
    return node.css_first("p, div, img, picture, figure, h1, h2, h3, h4, ul, ol") is not None


def _is_subhead(node: LexborNode) -> bool:
    # Scripts, styles and comments do not make a bold line any less a sub-head (and the
    # unchanged signature drops them: see signature.py).
    meaningful = [
        c
        for c in _children(node)
        if not (c.tag == "-text" and not (c.text_content or "").strip())
        and c.tag not in ("br", "-comment", "script", "style")
    ]
    return len(meaningful) == 1 and meaningful[0].tag in ("b", "strong")


def _image_src(node: LexborNode) -> str:
    if node.tag in ("picture",):
        inner = node.css_first("img[src]") or node.css_first("source")
        return _image_src(inner) if inner is not None else ""
    attrs = node.attributes
    for key in ("src", "data-src", "srcset", "srcSet", "data-srcset"):
        value = attrs.get(key) or attrs.get(key.lower())
        if value:
            return value.split(",")[0].strip().split(" ")[0]
    if node.tag == "img":
        parent = node.parent
        if parent is not None and parent.tag == "picture":
            source = parent.css_first("source")
            if source is not None and source is not node:
                return _image_src(source)
    return ""
