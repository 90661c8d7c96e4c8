"""Renderings: report tables and JSON; a diff as terminal, text, HTML or JSON."""
