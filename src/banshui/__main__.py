"""``python -m banshui`` is the ``banshui`` command."""

from banshui.cli.main import main

main()
