"""``python -m grading ...``: see ``grading.cli``."""

from grading.cli import main

raise SystemExit(main())
