"""``python -m monitor`` runs the CLI."""

from monitor import main

main()
