"""article-monitor: watch news articles for silent edits."""

__version__ = "0.1.0"
