"""``python -m redline`` runs the command line."""
from redline.cli import main

main()
