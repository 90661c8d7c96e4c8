"""Newsmonitor: track news articles as they are edited, and alert on what matters."""

__version__ = "0.1.0"


def main() -> None:
    """The ``newsmonitor`` command.

    The command's script imports this module; spawned worker processes import that script
    again, and would load the whole CLI (HTTP stack, store, renderers) if it were imported
    here at the top rather than when the command runs.
    """
    from monitor.cli import main as cli

    cli()
