"""``python -m luopan``."""

from luopan.cli.main import main

main()
