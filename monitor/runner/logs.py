"""The daemon's log output: text or one JSON object per line, secrets kept out."""

from __future__ import annotations

import json
import logging


def configure_logging(fmt: str, level: str) -> None:
    class JsonFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            entry = {
                "ts": round(record.created, 3),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            }
            if record.exc_info:
                entry["error"] = self.formatException(record.exc_info)
            return json.dumps(entry, ensure_ascii=False)

    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Third-party loggers can print notification URLs with their secrets: keep them quiet.
    for noisy in ("apprise", "httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL if noisy == "apprise" else logging.ERROR)
