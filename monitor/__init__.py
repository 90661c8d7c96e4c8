"""Newsmonitor: track news articles as they are edited, and alert on what matters."""

__version__ = "0.1.0"
