"""Sending one message to one target.

Chat and webhook targets go through apprise. Email goes out over smtplib with our own
multipart/alternative message, configured by the same `mailto://` URL as parsed by
apprise: apprise derives an email's plain part from its HTML by stripping tags, which
misstates an edit (`5<del>5</del><ins>6</ins>000` reads "56000"), and offers no way
to give it ours.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import smtplib
import ssl
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any, TypeVar

from monitor.display import one_line
from monitor.masking import mask_credentials
from monitor.notify.chat import fit_digest
from monitor.notify.email_body import EmailBody, as_document, pack, unpack

EMAIL_SCHEMES = ("mailto", "mailtos", "email")
KEY_HEADER = "X-Article-Monitor-Alert"
SLACK_S = 5.0  # beyond the plugin's own timeouts, before a send is abandoned
EMAIL_FORMAT = "email"  # body is a packed EmailBody (see email_body.pack)

# (url, subject, body, body_format, alert key) -> None on success, else why it failed
Sender = Callable[[str, str, str, str, str], Awaitable[str | None]]


def is_email(url: str) -> bool:
    return url.split("://", 1)[0].lower() in EMAIL_SCHEMES


def body_format(email: bool) -> str:
    return EMAIL_FORMAT if email else "markdown"


async def apprise_send(
    url: str, subject: str, body: str, fmt: str, key: str = "", timeout: float = 30.0
) -> str | None:
    """Send one message to one target; None on success, else why it failed."""
    import apprise

    # A fresh object per send: plugins otherwise sleep between sends to one object.
    heard: list[str] = []
    token = _heard.set(heard)
    try:
        plugin = apprise.Apprise.instantiate(_with_timeouts(_with_key(url, key), timeout))
    finally:
        _heard.reset(token)
    if not plugin:
        said = "; ".join(dict.fromkeys(m for m in heard if not m.startswith("Could not load")))
        return _said(f"invalid notification URL: {said}")
    plugin.request_rate_per_sec = 0
    if fmt == EMAIL_FORMAT:
        if not _is_smtp(plugin):
            return "not an SMTP email URL"
        try:
            message = _email(plugin, subject, unpack(body), key)
        except (ValueError, TypeError) as exc:  # a header the URL gave that mail refuses
            return _smtp_reason(f"cannot build the message: {exc}")
        call = _in_thread(_smtp_send, plugin, message, timeout)
    else:
        if fmt == "markdown":
            body = fit_digest(body, chat_limit(plugin, subject))
        call = _in_thread(_apprise_notify, plugin, subject, body, fmt)
    try:
        # The plugin itself gives up at `timeout` (cto/rto, or the SMTP socket's);
        # this outer bound only catches one that ignores them.
        return await asyncio.wait_for(call, timeout + SLACK_S)
    except TimeoutError:
        return f"timed out after {timeout:g} s"


T = TypeVar("T")
log = logging.getLogger("monitor.notify.sending")
_SENDERS: ThreadPoolExecutor | None = None


def _in_thread(func: Callable[..., T], *args: Any) -> Awaitable[T]:
    """Run a blocking send in a thread of our own pool, not the loop's default
    executor: closing the event loop joins that one, so a send stuck on a silent
    server would hold a stopping daemon past its grace period (the daemon ends with
    os._exit, which does not wait for these threads)."""
    global _SENDERS
    if _SENDERS is None:
        # Room for many targets at once: time queued here counts against a send.
        _SENDERS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="monitor-send")
    context = contextvars.copy_context()  # as asyncio.to_thread does
    call = functools.partial(context.run, func, *args)
    return asyncio.get_running_loop().run_in_executor(_SENDERS, call)


def chat_limit(plugin: Any, subject: str) -> int:
    """How long a message body may be for this service. A service without a separate
    title (Telegram) puts the subject in front of the body, on its own line."""
    limit = int(getattr(plugin, "body_maxlen", 0) or 32768)
    if not getattr(plugin, "title_maxlen", 0):
        limit -= len(subject) + 16  # room for the title's own markup
    return max(limit, 200)


# -- apprise: chat and webhooks ------------------------------------------------------

# The warnings apprise logs during one send, as its reason for a failure: the plugin
# runs in a worker thread with a copy of the sender's context, so each concurrent
# send hears only its own.
_heard: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("heard", default=None)


class _Hear(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        heard = _heard.get()
        if heard is not None and record.levelno >= logging.WARNING:
            heard.append(record.getMessage())


_HEAR = _Hear()
logging.getLogger("apprise").addHandler(_HEAR)


def _apprise_notify(plugin: Any, subject: str, body: str, fmt: str) -> str | None:
    heard: list[str] = []
    _heard.set(heard)  # this thread's own context copy: other sends are unaffected
    try:
        ok = plugin.notify(body=body, title=subject, body_format=fmt)
    except Exception as exc:  # a plugin bug must not stop the other targets
        return _reason([f"{type(exc).__name__}: {exc}"])
    return None if ok else _reason(heard)


def _reason(messages: list[str]) -> str:
    """apprise's own words for a failure (HTTP status, service error), made safe to
    store and show."""
    unique = list(dict.fromkeys(m.strip() for m in messages if m.strip()))
    said = "; ".join(unique[-2:]) or "the service did not accept it"
    return _said(f"delivery failed: {said}")


def _with_timeouts(url: str, timeout: float) -> str:
    """Our send timeout as the plugin's own connect and read timeouts: without them a
    plugin gives up after its default (about 4 s) whatever we allow, or never."""
    query = url.split("?", 1)[1] if "?" in url else ""
    names = {part.split("=", 1)[0].lower() for part in query.split("&") if part}
    extra = [f"{name}={timeout:g}" for name in ("cto", "rto") if name not in names]
    if not extra:
        return url
    return f"{url}{'&' if '?' in url else '?'}{'&'.join(extra)}"


def _with_key(url: str, key: str) -> str:
    """The target URL with the alert key as a custom header (apprise's `+Name=value`);
    plugins without custom headers ignore it."""
    if not key:
        return url
    return f"{url}{'&' if '?' in url else '?'}%2B{KEY_HEADER}={key}"


# -- email over SMTP -----------------------------------------------------------------


def _is_smtp(plugin: Any) -> bool:
    return all(hasattr(plugin, name) for name in ("smtp_host", "secure_mode", "from_addr"))


def _address(plugin: Any, address: str) -> str:
    name = getattr(plugin, "names", {}).get(address) or ""
    return formataddr((str(name), address))


def _email(plugin: Any, subject: str, body: EmailBody, key: str) -> EmailMessage:
    """The message apprise would send, with our plain part beside the HTML."""
    from_name, from_address = plugin.from_addr
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((str(from_name or ""), from_address))
    message["To"] = ", ".join(_address(plugin, address) for _, address in plugin.targets)
    if plugin.cc:
        message["Cc"] = ", ".join(_address(plugin, a) for a in sorted(plugin.cc))
    if plugin.reply_to:
        message["Reply-To"] = ", ".join(_address(plugin, a) for a in sorted(plugin.reply_to))
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=str(plugin.smtp_host))
    for name, value in dict(plugin.headers).items():
        # The URL's own `+Header=value`s, our alert key among them; one naming a
        # header set above (Reply-To, Subject) replaces it rather than doubling it.
        if name in message:
            message.replace_header(name, value)
        else:
            message[name] = value
    if key and KEY_HEADER not in message:
        message[KEY_HEADER] = key
    message.set_content(body.text, subtype="plain", charset="utf-8")
    message.add_alternative(body.html, subtype="html", charset="utf-8")
    return message


def _recipients(plugin: Any) -> list[str]:
    to = [address for _, address in plugin.targets]
    return list(dict.fromkeys([*to, *sorted(plugin.cc), *sorted(plugin.bcc)]))


def _smtp_send(plugin: Any, message: EmailMessage, timeout: float) -> str | None:
    """Connect as the URL says (plain, STARTTLS or SSL; login if it has a password),
    send, and say why not in the server's own words."""
    mode = str(plugin.secure_mode)
    if mode not in ("insecure", "starttls", "ssl"):
        return f"unknown secure mode {mode!r}"
    context = ssl.create_default_context()
    if not plugin.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    host, port = str(plugin.smtp_host), int(plugin.port)
    if mode == "starttls" and port == 465:
        mode = "ssl"  # port 465 speaks TLS from the first byte: STARTTLS would only hang
    try:
        smtp = (
            smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
            if mode == "ssl"
            else smtplib.SMTP(host, port, timeout=timeout)
        )
        with smtp:
            if mode == "starttls":
                smtp.starttls(context=context)
            if plugin.user and plugin.password:
                smtp.login(str(plugin.user), str(plugin.password))
            refused = smtp.send_message(
                message, from_addr=plugin.from_addr[1], to_addrs=_recipients(plugin)
            )
    except smtplib.SMTPRecipientsRefused as exc:
        return _refused(exc.recipients)
    except smtplib.SMTPResponseException as exc:
        return _smtp_reason(f"SMTP {exc.smtp_code} {_decoded(exc.smtp_error)}")
    except (OSError, smtplib.SMTPException) as exc:
        return _smtp_reason(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    if refused:
        # Others took it: a retry would send it to them again, and a refused address
        # (no such mailbox) would refuse again. Sent, and said in the log.
        log.warning("%s", _refused(refused))
    return None


def _refused(recipients: dict[str, tuple[int, bytes]]) -> str:
    said = ", ".join(f"{a}: {code} {_decoded(why)}" for a, (code, why) in recipients.items())
    return _smtp_reason(f"recipients refused: {said}")


def _decoded(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _smtp_reason(said: str) -> str:
    return _said(f"delivery failed: {said}")


def _said(reason: str) -> str:
    """A failure as stored and shown: one line, secrets masked, not too long."""
    return one_line(mask_credentials(reason), 300)


def email_document(subject: str, bodies: list[EmailBody]) -> str:
    """What the Sender gets for an email target: one complete document, packed."""
    return pack(as_document(subject, bodies))
