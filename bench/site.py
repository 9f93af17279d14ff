"""The benchmark's article site: pre-rendered pages from the real corpus, served by nginx.

Every page is a realistic cn.nytimes.com article page (navigation, ads, scripts, related
lists) of about 118 KB. nginx serves them three ways from the same files:
/identical/ (same bytes, ETag and Last-Modified), /varying/ (a per-request token in the
markup via sub_filter and $request_id: new bytes, same article) .
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

from monitor.article import Article, Block
from monitor.extraction.feed import article_from_snapshot
from monitor.snapshot import Snapshot, read_file
from monitor.urls import normalize
from support.pages import nyt_page

ROOT = Path(__file__).resolve().parent.parent
CANONICAL_PREFIX = "https://cn.nytimes.com/bench/20250101/"
PAGE_BYTES = 118_000


def corpus_files() -> list[Path]:
    shared = ROOT.parent / "shared" / "corpus"
    if shared.is_dir():
        return sorted(p for p in shared.glob("nyt*/*.md"))
    return sorted((ROOT / "tests" / "data" / "corpus").glob("*.md"))


def base_articles() -> list[tuple[Snapshot, Article]]:
    out = []
    for path in corpus_files():
        snap, _ = read_file(path)
        if "cn.nytimes.com" in snap.url:
            out.append((snap, article_from_snapshot(snap, normalize(snap.url))))
    return out


def url_of(i: int) -> str:
    return f"{CANONICAL_PREFIX}article-{i}/"


def variant(bases: list[tuple[Snapshot, Article]], i: int, edit: int = 0) -> Article:
    """Article i: a corpus article with its own title, id paragraph and URL."""
    _, base = bases[i % len(bases)]
    body = (*base.body, Block("p", f"本文编号{i}。"))
    if edit:
        body = (*body, Block("p", f"第{edit}次编辑：新增的一段文字，编号{i}。"))
    return dataclasses.replace(base, title=f"{base.title}（{i}）", url=url_of(i), body=body)


def page_html(article: Article, rng: random.Random, hard: bool = False, dual: bool = False) -> str:
    """A page of ~118 KB. `hard`: the per-request bytes sit inside the article too (the
    article element's attributes, an ad between paragraphs, scripts and comments inside
    paragraphs), as on the live site; with `dual`, the bilingual layout."""
    html = nyt_page(article, token="__TOKEN__", hard=hard, dual=dual)
    # Real pages carry ~100 KB of scripts and styles; so do these.
    filler = "".join(
        rng.choice("abcdefghijklmnopqrstuvwxyz0123456789;{}()=. ")
        for _ in range(max(0, PAGE_BYTES - len(html.encode())))
    )
    return html.replace("</head>", f"<script>/*{filler}*/</script></head>", 1)


def write_site(site: Path, snapshots: Path, count: int) -> list[tuple[Snapshot, Article]]:
    bases = base_articles()
    rng = random.Random(1)
    filler_source = page_html(variant(bases, 0), rng)  # warm the generator once
    del filler_source
    shutil.rmtree(site, ignore_errors=True)
    shutil.rmtree(snapshots, ignore_errors=True)
    snapshots.mkdir(parents=True)
    hard_site = site.parent / f"{site.name}-hard"
    shutil.rmtree(hard_site, ignore_errors=True)
    for i in range(count):
        article = variant(bases, i)
        write_page(site, i, article, rng)
        write_page(hard_site, i, article, rng, hard=True)
        snap = Snapshot(1_700_000_000_000 + i, article.title, url_of(i), article.to_feed_html())
        (snapshots / f"{i}.md").write_text(snap.render(), encoding="utf-8")
    return bases


def write_page(
    site: Path, i: int, article: Article, rng: random.Random, hard: bool = False
) -> None:
    folder = site / f"article-{i}"
    folder.mkdir(parents=True, exist_ok=True)
    html = page_html(article, rng, hard=hard, dual=hard and i % 4 == 0)
    (folder / "index.html").write_text(html, encoding="utf-8")


NGINX_CONF = """
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 60;
    types {{ text/html html; }}
    default_type text/html;
    charset utf-8;
    client_body_temp_path {work}/tmp;
    proxy_temp_path {work}/tmp;
    fastcgi_temp_path {work}/tmp;
    uwsgi_temp_path {work}/tmp;
    scgi_temp_path {work}/tmp;
    server {{
        listen 127.0.0.1:{port};
        location /identical/ {{ alias {site}/; etag on; }}
        location /varying/ {{
            alias {site}/;
            sub_filter '__TOKEN__' '$request_id';
            sub_filter_once off;
            sub_filter_types text/html;
        }}
        location /hard/ {{
            alias {site}-hard/;
            sub_filter '__TOKEN__' '$request_id';
            sub_filter_once off;
            sub_filter_types text/html;
        }}
    }}
}}
"""


class Nginx:
    def __init__(self, work: Path, site: Path, port: int) -> None:
        self.work, self.site, self.port = work, site, port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> Nginx:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(binary):
            raise SystemExit("nginx is not installed: apt-get install nginx-light wrk")
        (self.work / "tmp").mkdir(parents=True, exist_ok=True)
        conf = self.work / "nginx.conf"
        conf.write_text(NGINX_CONF.format(work=self.work, site=self.site, port=self.port))
        self.proc = subprocess.Popen([binary, "-c", str(conf), "-g", "daemon off;"])
        deadline = time.monotonic() + 10
        import socket

        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise SystemExit("nginx did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGQUIT)
            self.proc.wait(timeout=10)


def wrk_capacity(url: str, seconds: int = 5, connections: int = 10) -> float | None:
    """Requests per second nginx serves on one page (None without wrk)."""
    binary = shutil.which("wrk")
    if binary is None:
        return None
    out = subprocess.run(
        [binary, "-t1", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return None
