"""The `monitor` command line: thin click commands over the library.

Heavy modules are imported inside the commands so `monitor --help` starts fast.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from monitor.display import terminal
from monitor.errors import MonitorError

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.extraction.parser_pool import ParserPool
    from monitor.runner.check_report import PassTally
    from monitor.storage.articles import ArticleRow, Watch
    from monitor.storage.database import Store

F = TypeVar("F", bound=Callable[..., Any])
PARSER_POOL_FROM = 50  # `check` parses in worker processes from this many articles


class Context:
    def __init__(self, state_dir: Path | None, config_path: Path | None) -> None:
        self._state_dir = state_dir
        self.config_path = config_path
        self._config: Config | None = None

    def config(self) -> Config:
        """The settings, read and checked once per command."""
        if self._config is None:
            from monitor import config

            self._config = config.load(self.config_path)
        return self._config

    @property
    def state_dir(self) -> Path:
        from monitor.storage.database import default_state_dir

        return self._state_dir or default_state_dir()

    @contextmanager
    def store(self, *, readonly: bool = False) -> Iterator[Store]:
        from monitor.storage.database import Store

        # Every command that opens the database checks the config first, even one
        # that needs no setting: a typo in the file is then reported at once, not
        # first by the daemon's next start.
        self.config()
        store = Store.open(self.state_dir, readonly=readonly)
        try:
            yield store
        finally:
            store.close()


def one_line_errors(func: F) -> F:
    """Domain errors become one line on stderr and exit status 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MonitorError as exc:
            click.echo(f"error: {terminal(exc)}", err=True)
            sys.exit(1)
        except sqlite3.Error as exc:
            click.echo(f"error: database: {terminal(exc)}", err=True)
            sys.exit(1)
        except BrokenPipeError:
            sys.stderr.close()  # the reader went away (`| head`): not an error
            sys.exit(0)
        except OSError as exc:
            click.echo(f"error: {terminal(exc.filename or '')}: {exc.strerror or exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data directory holding monitor.db [env MONITOR_STATE_DIR; default ./state].",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="MONITOR_CONFIG",
    help="Config file (TOML) [env MONITOR_CONFIG].",
)
@click.version_option(package_name="article-monitor")
@click.pass_context
def main(ctx: click.Context, state_dir: Path | None, config_path: Path | None) -> None:
    """Watch news articles for silent edits: keep every version, diff them,
    and get told by email or chat the moment one changes."""
    ctx.obj = Context(state_dir, config_path)


pass_ctx = click.make_pass_decorator(Context)


@main.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@pass_ctx
@one_line_errors
def import_cmd(ctx: Context, paths: tuple[Path, ...]) -> None:
    """Import snapshot files or directories (recursively)."""
    from monitor.history.importing import find_files, import_paths

    with ctx.store() as store:
        total = sum(1 for _ in find_files(paths))
        show_bar = sys.stderr.isatty() and total > 20
        with click.progressbar(
            length=total, label="importing", file=sys.stderr, hidden=not show_bar
        ) as bar:
            summary = import_paths(store, paths, progress=lambda _p: bar.update(1))
    for error in summary.errors:
        click.echo(f"error: {terminal(error)}", err=True)
    click.echo(
        f"{summary.files} files read, {summary.new_versions} new versions, "
        f"{summary.duplicates} duplicates, {summary.already_known} already imported, "
        f"{len(summary.articles)} articles ({summary.new_articles} new), "
        f"{len(summary.errors)} errors"
    )
    if summary.errors:
        sys.exit(1)


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@one_line_errors
def list_cmd(ctx: Context, as_json: bool) -> None:
    """Tracked articles, one row each: versions, state (failing: how many errors in a
    row, and the last one), last change, last and next check ("due": now), title, URL."""
    import dataclasses

    from monitor.clock import now_ms
    from monitor.history.listing import listing_lines

    with ctx.store(readonly=True) as store:
        rows = store.article_listing()
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(r) for r in rows], ensure_ascii=False, indent=2))
        return
    for line in listing_lines(rows, now_ms()):
        click.echo(line)


@main.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--from-file",
    "from_file",
    type=click.File("r", encoding="utf-8"),
    help="Read URLs from a file, one per line (blank lines and # comments allowed).",
)
@pass_ctx
@one_line_errors
def add(ctx: Context, urls: tuple[str, ...], from_file: Any) -> None:
    """Start watching article URLs (checked on the next pass).

    The scheme is kept as given (http stays http). Prints each URL as added or
    already known; a removed article is watched again."""
    from monitor.history.watchlist import UrlLine, add_urls, url_lines

    wanted = [UrlLine(u) for u in urls]
    if from_file is not None:
        wanted += url_lines(from_file, from_file.name)
    if not wanted:
        raise click.UsageError("give at least one URL, or --from-file")
    config = ctx.config()
    with ctx.store() as store:
        report = add_urls(store, wanted, config)
    _echo_errors(report.errors)
    for item in report.urls:
        click.echo(f"{_ADD_STATUS[item.status]:<26} {terminal(item.url)}")
    click.echo(f"{report.added} added, {report.known} already known, {len(report.errors)} errors")
    if report.errors:
        sys.exit(1)


_ADD_STATUS = {
    "added": "added",
    "known": "already known",
    "rewatched": "watched again",
    "paused": "already known (paused)",
}


@main.command()
@click.argument("articles", nargs=-1, required=True)
@click.option(
    "--purge", is_flag=True, help="Also delete their history: versions, sightings, alerts."
)
@click.option("--yes", "-y", is_flag=True, help="Purge without asking first.")
@pass_ctx
@one_line_errors
def remove(ctx: Context, articles: tuple[str, ...], purge: bool, yes: bool) -> None:
    """Stop watching ARTICLES (ids or URLs).

    Their history is kept and still shown (`monitor add URL` watches one again);
    --purge deletes it too, after a confirmation (or --yes). All in one
    transaction; a bad reference is reported and the rest are removed."""
    from monitor.history.watchlist import purge as purge_articles
    from monitor.history.watchlist import resolve_all, set_watch

    with ctx.store() as store:
        found = resolve_all(store, articles)
        _echo_errors(found.errors)
        if found.rows and purge:
            if not yes:
                _confirm_purge(found.rows)
            purge_articles(store, found.rows)
            for row in found.rows:
                versions = _plural(row.versions_count, "version")
                click.echo(f"{'purged':<16} {row.id:>5}  {terminal(row.url)}  ({versions})")
        elif found.rows:
            changes = set_watch(store, found.rows, "unwatched")
            _echo_changes(found.rows, changes, {"done": "removed", "already": "already removed"})
    if found.errors:
        sys.exit(1)


@main.command()
@click.argument("articles", nargs=-1, required=True)
@pass_ctx
@one_line_errors
def pause(ctx: Context, articles: tuple[str, ...]) -> None:
    """Stop checking ARTICLES (ids or URLs) until `monitor resume`.

    Neither the daemon nor `monitor check` takes a paused article; `monitor list`
    shows it as paused. A bad reference is reported and the rest are paused."""
    words = {"done": "paused", "already": "already paused", "not watched": "not watched"}
    _change_watch(ctx, articles, "paused", words)


@main.command()
@click.argument("articles", nargs=-1, required=True)
@pass_ctx
@one_line_errors
def resume(ctx: Context, articles: tuple[str, ...]) -> None:
    """Check ARTICLES (ids or URLs) again after `monitor pause` or `monitor remove`.

    One that fell due while paused is due at once."""
    words = {"done": "resumed", "already": "not paused", "rewatched": "watched again"}
    _change_watch(ctx, articles, "watching", words)


def _change_watch(
    ctx: Context, articles: tuple[str, ...], watch: Watch, words: dict[str, str]
) -> None:
    from monitor.history.watchlist import resolve_all, set_watch

    with ctx.store() as store:
        found = resolve_all(store, articles)
        _echo_errors(found.errors)
        changes = set_watch(store, found.rows, watch)
        _echo_changes(found.rows, changes, words)
    if found.errors:
        sys.exit(1)


def _echo_errors(errors: list[str]) -> None:
    for error in errors:
        click.echo(f"error: {terminal(error)}", err=True)


def _echo_changes(rows: list[ArticleRow], changes: Sequence[str], words: dict[str, str]) -> None:
    for row, change in zip(rows, changes, strict=True):
        click.echo(f"{words[change]:<16} {row.id:>5}  {terminal(row.url)}")


def _confirm_purge(rows: list[ArticleRow]) -> None:
    """Ask before deleting history for good; a refusal (or no terminal to ask on)
    aborts with exit status 1 and nothing deleted."""
    for row in rows:
        versions = _plural(row.versions_count, "version")
        click.echo(f"  {row.id:>5}  {terminal(row.url)}  ({versions})", err=True)
    versions = _plural(sum(r.versions_count for r in rows), "version")
    question = f"Delete {_plural(len(rows), 'article')} and their {versions} for good?"
    click.confirm(question, abort=True, err=True)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@main.command()
@click.argument("articles", nargs=-1)
@click.option("--all", "all_articles", is_flag=True, help="Check every article, due or not.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per article.")
@click.option("--no-notify", is_flag=True, help="Queue alerts but do not deliver them now.")
@pass_ctx
@one_line_errors
def check(
    ctx: Context, articles: tuple[str, ...], all_articles: bool, as_json: bool, no_notify: bool
) -> None:
    """One pass now over ARTICLES, or the due articles (default), or --all;
    then deliver the queued notifications.

    Prints one line per article and a summary (with --json, the summary goes to
    stderr). Paused and removed articles are never checked. Articles are claimed
    as the daemon claims them: those another process is checking are skipped, with
    a line on stderr. If the output is closed (`| head -1`), the pass stops with
    exit status 1; what was checked by then is recorded."""
    from monitor import identity
    from monitor.clock import now_ms
    from monitor.event_loop import run as run_async
    from monitor.notify.outbox import deliver
    from monitor.runner.check_report import nothing_due

    config = ctx.config()
    owner = identity.owner()
    due_only = not all_articles
    with ctx.store() as store:
        ids, bad = _check_ids(store, articles)
        total = store.count_pass(ids, due_only=due_only, now=now_ms())
        if ids is None and due_only and total == 0:
            click.echo(nothing_due(store.next_due_at(), now_ms()), err=as_json)
        else:
            tally = _check_pass(store, config, owner, ids, due_only, total, as_json)
            click.echo(tally.summary(store.next_due_at(), now_ms()), err=as_json)
        if not no_notify:
            outcome = run_async(deliver(store, config, now_ms, owner=owner))
            if outcome.sent or outcome.retrying or outcome.failed:
                click.echo(
                    f"notifications: {outcome.sent} sent, {outcome.retrying} to retry, "
                    f"{outcome.failed} given up",
                    err=as_json,
                )
    if bad:
        sys.exit(1)  # the others were checked; the bad references were named


_NOT_WATCHING = {"paused": "paused", "unwatched": "not watched"}


def _check_ids(store: Store, articles: tuple[str, ...]) -> tuple[list[int] | None, bool]:
    """The articles named (None: a pass over the schedule), and whether some named
    nothing (each said on stderr; the rest are checked). Those paused or removed from
    watching are named on stderr; the pass leaves them out."""
    from monitor.history.watchlist import resolve_all

    if not articles:
        return None, False
    found = resolve_all(store, articles)
    _echo_errors(found.errors)
    rows = found.rows
    for row in rows:
        if row.watch in _NOT_WATCHING:
            click.echo(f"skipped ({_NOT_WATCHING[row.watch]})  {terminal(row.url)}", err=True)
    return [row.id for row in rows], bool(found.errors)


def _check_pass(
    store: Store,
    config: Config,
    owner: str,
    ids: list[int] | None,
    due_only: bool,
    total: int,
    as_json: bool,
) -> PassTally:
    """Run the pass, printing each result as it is recorded; exits 1 if the output is
    closed meanwhile."""
    from monitor.event_loop import run as run_async
    from monitor.outcome import CheckOutcome
    from monitor.runner.check import check_pass
    from monitor.runner.check_report import PassTally
    from monitor.storage.checks import ClaimedElsewhere

    tally = PassTally()
    progress = _Progress(total, shown=sys.stderr.isatty() and not as_json)

    def report(result: CheckOutcome) -> None:
        tally.add(result)
        progress.clear()
        click.echo(
            json.dumps(result.as_dict(), ensure_ascii=False) if as_json else terminal(result.line())
        )
        progress.advance()

    def skipped(other: ClaimedElsewhere) -> None:
        tally.skipped += 1
        progress.clear()
        click.echo(f"skipped (being checked by {other.owner})  {terminal(other.url)}", err=True)
        progress.advance()

    parser = _parser_for(config, total)
    closed = False
    try:
        run_async(
            check_pass(
                store,
                config,
                ids=ids,
                due_only=due_only,
                owner=owner,
                parser=parser,
                on_result=report,
                on_skipped=skipped,
            )
        )
    except BrokenPipeError:
        # The pass has stopped by now: its results so far are committed (each one
        # before it is printed) and check_pass released its claims on the way out.
        closed = True
    finally:
        if parser is not None:
            parser.close()
    if closed:
        _output_closed()
    progress.clear()
    return tally


def _output_closed() -> None:
    """The reader went away (`monitor check | head -1`): say so on stderr if it is
    still open, and exit 1, as not everything was checked."""
    import os

    # What is still buffered for stdout would fail again, with a traceback, when the
    # interpreter flushes it at exit. (A test runner's capture has no file: skipped.)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    with contextlib.suppress(OSError):
        click.echo(
            "error: output closed: the pass stopped (what was checked is recorded)", err=True
        )
    sys.exit(1)


class _Progress:
    """`checking [####----] 12/120` on stderr while a pass runs, only when stderr is
    a terminal. Cleared before every line printed, so a result never lands on the
    bar's line when stdout and stderr share the terminal."""

    WIDTH = 24

    def __init__(self, total: int, *, shown: bool) -> None:
        self.total, self.done, self.shown = total, 0, shown and total > 1
        self._drawn = False

    def clear(self) -> None:
        if self._drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._drawn = False

    def advance(self) -> None:
        self.done += 1
        if not self.shown:
            return
        total = max(self.total, self.done)  # articles that fell due after the count
        filled = self.WIDTH * self.done // total
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        sys.stderr.write(f"\rchecking [{bar}] {self.done}/{total}")
        sys.stderr.flush()
        self._drawn = True


def _parser_for(config: Config, pages: int) -> ParserPool | None:
    """Worker processes pay off from a few dozen pages; below that, start-up dominates."""
    if config.check.parse_workers == 0 or pages < PARSER_POOL_FROM:
        return None
    from monitor.extraction.parser_pool import ParserPool

    return ParserPool(config.check.parse_workers)


@main.command()
@click.argument("article")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@one_line_errors
def history(ctx: Context, article: str, as_json: bool) -> None:
    """Versions of ARTICLE (id or URL), oldest first, numbered v1, v2, …: the numbers
    and keys that diff --from/--to and show --at accept."""
    from monitor.history import listing

    with ctx.store(readonly=True) as store:
        row, entries = listing.history(store, article)
    if as_json:
        click.echo(json.dumps([e.as_dict() for e in entries], ensure_ascii=False, indent=2))
        return
    click.echo(f"{terminal(row.title or row.url)}\n{terminal(row.url)}")
    for line in listing.history_lines(entries):
        click.echo(f"  {line}")


@main.command()
@click.argument("article")
@click.option(
    "--from", "from_ref", metavar="VERSION", help="Older version [default: the one before --to]."
)
@click.option("--to", "to_ref", metavar="VERSION", help="Newer version [default: latest].")
@click.option(
    "--format",
    "fmt",
    default=None,
    type=click.Choice(["terminal", "text", "markdown", "html", "json"]),
    help="Output format [default: terminal on a tty, else text].",
)
@click.option(
    "--side-by-side",
    is_flag=True,
    help="An HTML page with old and new of each changed block in two columns.",
)
@pass_ctx
@one_line_errors
def diff(
    ctx: Context,
    article: str,
    from_ref: str | None,
    to_ref: str | None,
    fmt: str | None,
    side_by_side: bool,
) -> None:
    """Diff two versions of ARTICLE (default: the last two).

    VERSION is vN (as numbered by history), latest, latest~K (K before the latest),
    a version key (epoch ms), or an ISO 8601 date or time: the version current then
    (local time unless an offset is given). A removal diffs to no text."""
    from monitor.diffing.render import render
    from monitor.history import reading

    with ctx.store(readonly=True) as store:
        header, result = reading.diff(store, article, from_ref, to_ref)
    chosen = fmt or ("terminal" if sys.stdout.isatty() else "text")
    if side_by_side:
        if fmt not in (None, "html"):
            raise click.UsageError("--side-by-side is an HTML page: use it with --format html")
        chosen = "html-side-by-side"
    click.echo(render(chosen, header, result), nl=False)


@main.command()
@click.argument("article")
@click.option("--at", "at_ref", metavar="VERSION", help="Which version [default: latest].")
@click.option("--text", "as_text", is_flag=True, help="Readable text instead of a snapshot.")
@pass_ctx
@one_line_errors
def show(ctx: Context, article: str, at_ref: str | None, as_text: bool) -> None:
    """Print a version of ARTICLE in the snapshot format (byte-exact as imported), or
    with --text as title, byline and paragraphs.

    VERSION is vN, latest, latest~K, a version key (epoch ms), or an ISO 8601 date or
    time (the version current then)."""
    from monitor.display import visible
    from monitor.history import reading

    with ctx.store(readonly=True) as store:
        text = reading.show(store, article, at_ref, text=as_text)
    # The snapshot goes out exactly as stored; text for reading is made terminal-safe.
    sys.stdout.buffer.write((visible(text) if as_text else text).encode("utf-8"))


@main.command()
@click.argument("args", nargs=-1, required=True)
@click.option("--all", "all_articles", is_flag=True, help="Export every article.")
@pass_ctx
@one_line_errors
def export(ctx: Context, args: tuple[str, ...], all_articles: bool) -> None:
    """Write every version as a snapshot file: export (ARTICLE... | --all) DIR."""
    from monitor.history import reading

    if (all_articles and len(args) != 1) or (not all_articles and len(args) < 2):
        raise click.UsageError("give ARTICLE... DIR, or --all DIR")
    *refs, directory = args
    with ctx.store(readonly=True) as store:
        count = reading.export(store, refs, Path(directory), all_articles)
    click.echo(f"{count} snapshot files written to {directory}")


@main.command()
@click.argument("articles", nargs=-1)
@click.option("--all", "all_articles", is_flag=True, help="Re-extract every article.")
@pass_ctx
@one_line_errors
def reextract(ctx: Context, articles: tuple[str, ...], all_articles: bool) -> None:
    """Re-extract fetched versions from their kept raw HTML (timestamps are kept)."""
    from monitor.history.recording import reextract as reextract_article

    if not articles and not all_articles:
        raise click.UsageError("give ARTICLE... or --all")
    with ctx.store() as store:
        rows = list(store.articles()) if all_articles else [store.resolve(a) for a in articles]
        changed = 0
        for row in rows:
            with store.write():
                changed += reextract_article(store, row.id)
    click.echo(f"{len(rows)} articles re-extracted, {changed} versions changed")


@main.command()
@pass_ctx
@one_line_errors
def run(ctx: Context) -> None:
    """Run the monitor in the foreground until SIGTERM/SIGINT (the daemon).

    One daemon per state directory (it holds STATE_DIR/daemon.lock). On first
    start with an empty database it imports the seeds directory."""
    import logging
    import os
    import signal

    # Until the daemon's own handlers are in place, a stop request is a clean exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    from monitor.config import no_targets_warning
    from monitor.runner.lock import DaemonLock

    config = ctx.config()
    warning = no_targets_warning(config)
    if warning is not None:
        click.echo(f"warning: {warning}", err=True)
    # The lock first, before the daemon's heavy imports: a second daemon is refused at
    # once. It is held until this process exits (the kernel releases it then), so no
    # other daemon starts while this one is still finishing.
    lock = DaemonLock(ctx.state_dir)
    lock.acquire()
    from monitor.runner.daemon import run_daemon
    from monitor.runner.logs import configure_logging

    configure_logging(config.daemon.log_format, config.daemon.log_level)
    code = run_daemon(ctx.state_dir, config, lock)
    # Everything is committed and the database closed. A notification plugin's thread
    # still blocked in a send would hold up the interpreter's exit (it joins them): a
    # stop request must not wait on a slow receiver, so leave now.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@main.command("notify-test")
@pass_ctx
@one_line_errors
def notify_test(ctx: Context) -> None:
    """Send a test message to every notification target and report each result."""
    from monitor.event_loop import run as run_async
    from monitor.notify.outbox import send_test

    config = ctx.config()
    if not config.notify.targets:
        raise MonitorError("no notification targets: set notify.targets or MONITOR_NOTIFY")
    results = run_async(send_test(config))
    for masked, error in results:
        click.echo(
            f"{'ok' if error is None else 'FAILED'}  {masked}" + (f"  ({error})" if error else "")
        )
    if any(error for _, error in results):
        sys.exit(1)


@main.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--all", "include_sent", is_flag=True, help="Include delivered notifications.")
@click.pass_context
@one_line_errors
def outbox(click_ctx: click.Context, as_json: bool, include_sent: bool) -> None:
    """Pending and failed notification deliveries."""
    if click_ctx.invoked_subcommand is not None:
        return
    from monitor.notify.outbox import outbox as list_outbox

    ctx: Context = click_ctx.obj
    with ctx.store(readonly=True) as store:
        rows = list_outbox(store, ctx.config(), include_sent)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        error = f"  last error: {terminal(r['last_error'])}" if r["last_error"] else ""
        click.echo(
            f"{r['state']:<8} alert {r['alert_id']:<5} {r['attempts']} tries  "
            f"{terminal(r['target'])}  {terminal(r['subject'])}{error}"
        )
    if not rows:
        click.echo("outbox is empty")


@outbox.command("retry")
@pass_ctx
@one_line_errors
def outbox_retry(ctx: Context) -> None:
    """Requeue failed deliveries (delivered on the next tick or check)."""
    from monitor.clock import now_ms
    from monitor.notify.outbox import retry_failed

    with ctx.store() as store:
        count = retry_failed(store, now_ms())
    click.echo(f"{count} deliveries requeued")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@one_line_errors
def status(ctx: Context, as_json: bool) -> None:
    """Is the daemon healthy? What is wrong and what to do about it (problems), what
    else deserves a look (warnings), then the daemon, articles and outbox.

    Exit status 1 when unhealthy, for health checks: the daemon is not running or
    not responding, notifications were given up, or most articles are failing."""
    from monitor.runner.status import daemon_status, status_lines

    config = ctx.config()
    if (ctx.state_dir / "monitor.db").exists():
        with ctx.store(readonly=True) as store:
            report = daemon_status(store, ctx.state_dir, config)
    else:  # a new state directory: nothing ran yet, which is what status says
        report = daemon_status(None, ctx.state_dir, config)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for line in status_lines(report):
            click.echo(terminal(line))
    if not report["healthy"]:
        sys.exit(1)


@main.command("config")
@pass_ctx
@one_line_errors
def config_cmd(ctx: Context) -> None:
    """Print the effective settings (secrets masked): `source` lists where values
    came from (defaults, the config file, environment variables), lowest precedence
    first, and `set_by` names the origin of each setting that is not its default."""
    from monitor.config import effective

    click.echo(json.dumps(effective(ctx.config()), ensure_ascii=False, indent=2))
