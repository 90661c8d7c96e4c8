"""Renderings of what the monitor found: terminal tables and JSON documents."""
