"""Adding URLs as given, and pausing, resuming and removing watched articles: what
the commands say and what the database file holds afterwards."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import main
from monitor.config import Config, load
from monitor.outcome import ArticleTarget
from monitor.runner.check import _same_article
from monitor.runner.daemon import claim_due
from monitor.storage.database import Store
from support.cli import run
from support.server import PageServer
from support.sites import db_rows, serve

FAR_FUTURE = 2**62  # every article is due by then
OWNER = "1@test-claims"


def _article(state_dir: Path, url: str) -> dict[str, object]:
    [row] = db_rows(
        state_dir,
        "SELECT id, url, watch, versions_count, last_check_at FROM articles WHERE url = ?",
        url,
    )
    return dict(zip(("id", "url", "watch", "versions", "checked"), row, strict=True))


def _id(state_dir: Path, url: str) -> str:
    return str(_article(state_dir, url)["id"])


def _listed(cli: CliRunner) -> dict[str, dict[str, object]]:
    return {str(r["url"]): r for r in json.loads(run(cli, "list", "--json").stdout)}


def _daemon_claim(state_dir: Path, settings_file: Path) -> list[ArticleTarget]:
    """What the daemon would claim at a time when every article is due."""
    store = Store.open(state_dir)
    try:
        claimed = claim_due(store, load(settings_file), FAR_FUTURE, 100, owner=OWNER)
        with store.write():
            store.release_claims(OWNER)
        return claimed
    finally:
        store.close()


# -- add ------------------------------------------------------------------------------


def test_an_http_url_is_stored_and_checked_as_http(
    cli: CliRunner, site: PageServer, state_dir: Path
) -> None:
    url = serve(site, "/a", "Plain HTTP", "A page served without TLS.", "Second paragraph.")
    assert url.startswith("http://127.0.0.1:")
    added = run(cli, "add", url)
    assert added.exit_code == 0, added.output
    assert added.stdout.splitlines()[0].split() == ["added", url]
    assert _article(state_dir, url)["url"] == url  # not https://…

    checked = run(cli, "check", "--all")
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith(f"new  {url}\n"), checked.stdout
    assert site.hits == ["/a"]
    assert _article(state_dir, url)["versions"] == 1


def test_add_names_each_url_and_reads_a_commented_list(
    cli: CliRunner, state_dir: Path, tmp_path: Path
) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text(
        "# articles to watch\n"
        "\n"
        "https://example.org/news/1   # the first one\n"
        "   # an indented comment\n"
        "https://example.org/news/2#section\t# a fragment is not a comment\n"
        "http://example.org/news/1\n"  # the same article under http: known
        "ftp://example.org/nope\n"
        "\n"
    )
    result = run(cli, "add", "https://example.org/news/3", "--from-file", str(listing))
    assert result.exit_code == 1  # the ftp line
    *lines, summary = result.stdout.splitlines()
    assert [line.split() for line in lines] == [
        ["added", "https://example.org/news/3"],
        ["added", "https://example.org/news/1"],
        ["added", "https://example.org/news/2"],
        ["already", "known", "https://example.org/news/1"],
    ]
    assert summary == "3 added, 1 already known, 1 errors"
    [error] = result.stderr.splitlines()
    assert error.startswith(f"error: {listing}:7: 'ftp://example.org/nope': not an http(s) URL")
    stored = [r[0] for r in db_rows(state_dir, "SELECT url FROM articles ORDER BY id")]
    assert stored == [f"https://example.org/news/{n}" for n in (3, 1, 2)]

    again = run(cli, "add", "https://example.org/news/2?utm_source=x", "https://example.org/new")
    assert again.exit_code == 0
    assert [line.split() for line in again.stdout.splitlines()[:2]] == [
        ["already", "known", "https://example.org/news/2"],
        ["added", "https://example.org/new"],
    ]


def test_a_redirect_between_http_and_https_is_the_same_article() -> None:
    assert _same_article(Config(), "http://example.org/a", "https://example.org/a")
    assert _same_article(Config(), "https://example.org/a", "http://example.org:80/a")
    assert not _same_article(Config(), "http://example.org/a", "https://example.org/b")


def test_every_way_in_keeps_http_and_https_one_article(state_dir: Path) -> None:
    """Not only `add`: an import (which calls ensure_article directly) of the other
    scheme finds the article too."""
    store = Store.open(state_dir)
    try:
        with store.write():
            first, created = store.ensure_article("https://example.com/a", 1_000)
            again, again_created = store.ensure_article("http://example.com/a", 2_000)
    finally:
        store.close()
    assert created and not again_created
    assert again == first


def test_any_scheme_finds_the_article(cli: CliRunner, state_dir: Path) -> None:
    run(cli, "add", "http://example.org/story")
    assert run(cli, "pause", "https://example.org/story").exit_code == 0
    assert _article(state_dir, "http://example.org/story")["watch"] == "paused"


# -- pause and resume -----------------------------------------------------------------


def test_a_paused_article_is_never_claimed_or_checked(
    cli: CliRunner, site: PageServer, state_dir: Path, settings_file: Path
) -> None:
    kept = serve(site, "/kept", "Kept", "Checked every pass.", "Really.")
    paused = serve(site, "/paused", "Paused", "Not checked while paused.", "Really.")
    assert run(cli, "add", kept, paused).exit_code == 0

    result = run(cli, "pause", paused, "999", "https://nowhere.example/x")
    assert result.exit_code == 1
    assert result.stdout.split() == ["paused", _id(state_dir, paused), paused]
    assert result.stderr.splitlines() == [
        "error: no article '999'",
        "error: no article 'https://nowhere.example/x'",
    ]
    assert _article(state_dir, paused)["watch"] == "paused"
    assert _article(state_dir, kept)["watch"] == "watching"
    assert "already paused" in run(cli, "pause", paused).stdout

    checked = run(cli, "check", "--all")
    assert checked.exit_code == 0, checked.output
    assert site.hits == ["/kept"]
    assert checked.stdout.splitlines()[-1].startswith("checked 1: 1 new; next due ")
    named = run(cli, "check", paused)  # named explicitly: still not checked
    assert f"skipped (paused)  {paused}" in named.stderr
    assert site.hits == ["/kept"]
    assert _article(state_dir, paused)["checked"] is None
    # The daemon's claim, at a time when everything is due, leaves it out too.
    assert [t.url for t in _daemon_claim(state_dir, settings_file)] == [kept]

    listed = _listed(cli)
    assert listed[paused]["state"] == "paused" and listed[paused]["next_check_at"] is None
    assert listed[kept]["state"] == "active"

    resumed = run(cli, "resume", _id(state_dir, paused), kept)
    assert resumed.exit_code == 0
    assert [line.split()[0] for line in resumed.stdout.splitlines()] == ["resumed", "not"]
    assert _article(state_dir, paused)["watch"] == "watching"
    assert run(cli, "check", paused).stdout.startswith(f"new  {paused}")
    assert site.hits == ["/kept", "/paused"]
    assert len(_daemon_claim(state_dir, settings_file)) == 2


# -- remove ---------------------------------------------------------------------------


def test_remove_stops_watching_and_keeps_the_history(
    cli: CliRunner, site: PageServer, state_dir: Path, settings_file: Path
) -> None:
    url = serve(site, "/r", "Removed", "Watched once.", "Then not.")
    run(cli, "add", url)
    run(cli, "check", "--all")
    removed = run(cli, "remove", _id(state_dir, url), "nope")
    assert removed.exit_code == 1
    assert removed.stdout.split() == ["removed", _id(state_dir, url), url]
    assert removed.stderr.startswith("error: no article 'nope'")
    assert _article(state_dir, url)["watch"] == "unwatched"
    assert _article(state_dir, url)["versions"] == 1  # history kept, still readable
    assert run(cli, "history", url).exit_code == 0

    assert run(cli, "check", "--all").stdout.startswith("checked 0; ")
    assert site.hits == ["/r"]
    assert _daemon_claim(state_dir, settings_file) == []
    assert _listed(cli)[url]["state"] == "unwatched"

    again = run(cli, "add", url)
    assert again.stdout.splitlines()[0].split() == ["watched", "again", url]
    assert _article(state_dir, url)["watch"] == "watching"


def test_resume_of_a_removed_article_says_it_is_watched_again(
    cli: CliRunner, site: PageServer, state_dir: Path
) -> None:
    url = serve(site, "/gone", "Removed", "Watched once.")
    run(cli, "add", url)
    run(cli, "remove", url)
    assert run(cli, "pause", url).stdout.split()[:2] == ["not", "watched"]
    assert _article(state_dir, url)["watch"] == "unwatched"
    resumed = run(cli, "resume", url)
    assert resumed.exit_code == 0
    assert resumed.stdout.split()[:2] == ["watched", "again"]
    assert _article(state_dir, url)["watch"] == "watching"
    assert run(cli, "resume", url).stdout.split()[:2] == ["not", "paused"]


def _two_checked_articles(cli: CliRunner, site: PageServer) -> tuple[str, str]:
    """Two articles with a change each (so alerts and deliveries exist) and the same
    first text (so they share content blobs)."""
    first = ("Same text on both.", "A second paragraph, the same too.")
    one = serve(site, "/one", "Twin", *first)
    two = serve(site, "/two", "Twin", *first)
    run(cli, "add", one, two)
    run(cli, "check", "--all", "--no-notify")
    serve(site, "/one", "Twin", first[0], "The first one, edited.")
    serve(site, "/two", "Twin", first[0], "The second one, edited.")
    assert "changed" in run(cli, "check", "--all", "--no-notify").stdout
    return one, two


def _history_counts(state_dir: Path, article_id: str) -> list[int]:
    tables = ("versions", "changes", "observations", "alerts")
    return [
        db_rows(state_dir, f"SELECT count(*) FROM {t} WHERE article_id = ?", int(article_id))[0][0]
        for t in tables
    ]


def _answering(cli: CliRunner, answer: str, *args: str) -> Result:
    """A command that asks a question, given `answer` on stdin."""
    return cli.invoke(main, list(args), input=f"{answer}\n", env=dict(os.environ))


@pytest.fixture
def notify_nowhere(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A notification target, so changes queue deliveries (never sent: --no-notify).
    After `state_dir`, which clears the variable."""
    monkeypatch.setenv("MONITOR_NOTIFY", "json://127.0.0.1:9/hook")


@pytest.mark.usefixtures("notify_nowhere")
def test_purge_asks_first_and_deletes_only_that_articles_history(
    cli: CliRunner, site: PageServer, state_dir: Path
) -> None:
    one, two = _two_checked_articles(cli, site)
    one_id, two_id = _id(state_dir, one), _id(state_dir, two)
    before_two = _history_counts(state_dir, two_id)
    assert before_two[0] == 2 and before_two[3] == 1  # two versions, one alert
    deliveries = db_rows(state_dir, "SELECT count(*) FROM deliveries")[0][0]
    assert deliveries == 2

    before_one = _history_counts(state_dir, one_id)
    refused = _answering(cli, "n", "remove", "--purge", one)
    assert refused.exit_code == 1
    assert "Delete 1 article and their 2 versions for good?" in refused.stderr
    assert _history_counts(state_dir, one_id) == before_one  # nothing deleted

    purged = _answering(cli, "y", "remove", "--purge", one)
    assert purged.exit_code == 0, purged.output
    assert purged.stdout.split() == ["purged", one_id, one, "(2", "versions)"]
    assert db_rows(state_dir, "SELECT id FROM articles") == [(int(two_id),)]
    assert _history_counts(state_dir, one_id) == [0, 0, 0, 0]
    assert db_rows(state_dir, "SELECT count(*) FROM deliveries")[0][0] == 1
    # The other article is whole, the content it shared included.
    assert _history_counts(state_dir, two_id) == before_two
    assert "The second one, edited." in run(cli, "show", two).stdout
    first_ts = json.loads(run(cli, "history", two, "--json").stdout)[0]["ts"]
    assert "Same text on both." in run(cli, "show", two, "--at", str(first_ts)).stdout
    orphans = db_rows(
        state_dir,
        "SELECT count(*) FROM blobs WHERE hash NOT IN (SELECT article_blob FROM versions "
        "WHERE article_blob IS NOT NULL UNION SELECT snapshot_blob FROM versions WHERE "
        "snapshot_blob IS NOT NULL UNION SELECT raw_blob FROM versions WHERE raw_blob "
        "IS NOT NULL UNION SELECT snapshot_blob FROM observations WHERE snapshot_blob "
        "IS NOT NULL)",
    )
    assert orphans == [(0,)]


def test_purge_with_yes_does_the_good_references(
    cli: CliRunner, site: PageServer, state_dir: Path
) -> None:
    url = serve(site, "/p", "Purged", "Gone for good.", "Really.")
    run(cli, "add", url)
    run(cli, "check", "--all")
    result = run(cli, "remove", "--purge", "--yes", "12345", url)
    assert result.exit_code == 1
    assert result.stderr == "error: no article '12345'\n"
    assert db_rows(state_dir, "SELECT count(*) FROM articles") == [(0,)]
    assert db_rows(state_dir, "SELECT count(*) FROM versions") == [(0,)]
    assert db_rows(state_dir, "SELECT count(*) FROM blobs") == [(0,)]


def test_a_purged_articles_id_is_never_given_again(
    cli: CliRunner, site: PageServer, state_dir: Path
) -> None:
    """Else a check of the purged article still in flight (same id, same claim
    token) could be recorded on the new one."""
    old = serve(site, "/old", "Old", "Purged soon.")
    run(cli, "add", old)
    purged_id = _id(state_dir, old)
    assert run(cli, "remove", "--purge", "--yes", old).exit_code == 0
    new = serve(site, "/new", "New", "Added after.")
    run(cli, "add", new)
    assert int(_id(state_dir, new)) > int(purged_id)
    assert run(cli, "history", purged_id).exit_code == 1  # the old id names nothing
