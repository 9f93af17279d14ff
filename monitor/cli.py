"""The `monitor` command line: thin click commands over the library.

Heavy modules are imported inside the commands so `monitor --help` starts fast.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
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
    from monitor.storage.database import Store

F = TypeVar("F", bound=Callable[..., Any])
PARSER_POOL_FROM = 50  # `check` parses in worker processes from this many articles


class Context:
    def __init__(self, state_dir: Path | None, config_path: Path | None) -> None:
        self._state_dir = state_dir
        self.config_path = config_path

    def config(self) -> Config:
        from monitor import config

        return config.load(self.config_path)

    @property
    def state_dir(self) -> Path:
        from monitor.storage.database import default_state_dir

        return self._state_dir or default_state_dir()

    @contextmanager
    def store(self, *, readonly: bool = False) -> Iterator[Store]:
        from monitor.storage.database import Store

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


def _ts_local(ts: int | None) -> str:
    from monitor.clock import local_time

    return local_time(ts) if ts else "-"


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
    """Tracked articles: state, versions, last change, last and next check."""
    import dataclasses

    with ctx.store(readonly=True) as store:
        rows = store.article_listing()
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(r) for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        state = f"failing ({r.failures} errors)" if r.failures else r.state
        click.echo(
            f"{r.id:>5} {r.versions:>3}v  {state:<10}"
            f"  changed {_ts_local(r.last_change_ts)}"
            f"  checked {_ts_local(r.last_check_at)}"
            f"  next {_ts_local(r.next_check_at)}\n"
            f"      {terminal(r.title)}\n      {terminal(r.url)}"
        )


@main.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--from-file",
    "from_file",
    type=click.File("r", encoding="utf-8"),
    help="Read URLs from a file, one per line (# comments allowed).",
)
@pass_ctx
@one_line_errors
def add(ctx: Context, urls: tuple[str, ...], from_file: Any) -> None:
    """Start watching article URLs (checked on the next pass)."""
    from monitor.history.watchlist import add_urls

    wanted = list(urls)
    if from_file is not None:
        wanted += [ln.strip() for ln in from_file if ln.strip() and not ln.startswith("#")]
    if not wanted:
        raise click.UsageError("give at least one URL, or --from-file")
    config = ctx.config()
    with ctx.store() as store:
        added, known, errors = add_urls(store, wanted, config)
    for error in errors:
        click.echo(f"error: {terminal(error)}", err=True)
    click.echo(f"{added} added, {known} already known, {len(errors)} errors")
    if errors:
        sys.exit(1)


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

    Articles are claimed as the daemon claims them: those another process is
    checking are skipped, with a line on stderr."""
    from monitor import identity
    from monitor.clock import now_ms
    from monitor.event_loop import run as run_async
    from monitor.notify.outbox import deliver
    from monitor.outcome import CheckOutcome
    from monitor.runner.check import check_pass
    from monitor.storage.checks import ClaimedElsewhere

    config = ctx.config()
    owner = identity.owner()
    with ctx.store() as store:
        ids = [store.resolve(a).id for a in articles] if articles else None
        total = store.count_pass(ids, due_only=not all_articles, now=now_ms())
        show_bar = sys.stderr.isatty() and not as_json and total > 1
        with click.progressbar(
            length=total, label="checking", file=sys.stderr, hidden=not show_bar
        ) as bar:

            def report(result: CheckOutcome) -> None:
                bar.update(1)
                if as_json:
                    click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
                else:
                    click.echo(terminal(result.line()))

            def skipped(other: ClaimedElsewhere) -> None:
                bar.update(1)
                click.echo(
                    f"skipped (being checked by {other.owner})  {terminal(other.url)}", err=True
                )

            parser = _parser_for(config, total)
            try:
                run_async(
                    check_pass(
                        store,
                        config,
                        ids=ids,
                        due_only=not all_articles,
                        owner=owner,
                        parser=parser,
                        on_result=report,
                        on_skipped=skipped,
                    )
                )
            finally:
                if parser is not None:
                    parser.close()
        if not no_notify:
            outcome = run_async(deliver(store, config, now_ms, owner=owner))
            if outcome.sent or outcome.retrying or outcome.failed:
                click.echo(
                    f"notifications: {outcome.sent} sent, {outcome.retrying} to retry, "
                    f"{outcome.failed} given up",
                    err=as_json,
                )


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
    """Versions of ARTICLE (id or URL), oldest first."""
    from monitor.history import reading

    with ctx.store(readonly=True) as store:
        row, entries = reading.history(store, article)
    if as_json:
        click.echo(json.dumps([e.as_dict() for e in entries], ensure_ascii=False, indent=2))
        return
    click.echo(f"{terminal(row.title)}\n{terminal(row.url)}")
    for e in entries:
        kinds = ",".join(e.kinds)
        click.echo(
            f"  {e.ts}  {_ts_local(e.ts):<24} {kinds:<20} "
            f"+{e.chars_added:<5} -{e.chars_removed:<5} {terminal(e.title)}"
        )


@main.command()
@click.argument("article")
@click.option("--from", "from_ts", type=int, help="Older version (timestamp, ms).")
@click.option("--to", "to_ts", type=int, help="Newer version (timestamp, ms).")
@click.option(
    "--format",
    "fmt",
    default=None,
    type=click.Choice(["terminal", "text", "markdown", "html", "json"]),
    help="Output format [default: terminal on a tty, else text].",
)
@pass_ctx
@one_line_errors
def diff(
    ctx: Context, article: str, from_ts: int | None, to_ts: int | None, fmt: str | None
) -> None:
    """Diff two versions of ARTICLE (default: the last two)."""
    from monitor.diffing.render import render
    from monitor.history import reading

    with ctx.store(readonly=True) as store:
        header, result = reading.diff(store, article, from_ts, to_ts)
    chosen = fmt or ("terminal" if sys.stdout.isatty() else "text")
    click.echo(render(chosen, header, result), nl=False)


@main.command()
@click.argument("article")
@click.option("--at", "at_ts", type=int, help="Version timestamp (ms); default latest.")
@pass_ctx
@one_line_errors
def show(ctx: Context, article: str, at_ts: int | None) -> None:
    """Print a version of ARTICLE in the snapshot format."""
    from monitor.history import reading

    with ctx.store(readonly=True) as store:
        text = reading.show(store, article, at_ts)
    sys.stdout.buffer.write(text.encode("utf-8"))


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
    from monitor.runner.lock import DaemonLock

    config = ctx.config()
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
    """Is the daemon healthy? Exit status 1 when not (for health checks)."""
    from monitor.runner.status import daemon_status

    with ctx.store(readonly=True) as store:
        report = daemon_status(store, ctx.state_dir)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for key, value in report.items():
            shown = _ts_local(value) if key.endswith("_at") and isinstance(value, int) else value
            click.echo(f"{key:<18} {terminal(shown)}")
    if not report["healthy"]:
        sys.exit(1)


@main.command("config")
@pass_ctx
@one_line_errors
def config_cmd(ctx: Context) -> None:
    """Print the effective settings (secrets masked)."""
    from monitor.config import effective

    click.echo(json.dumps(effective(ctx.config()), ensure_ascii=False, indent=2))
