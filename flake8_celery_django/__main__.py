"""``python -m flake8_celery_django``: the same command as ``flake8-celery-django``."""

from flake8_celery_django.cli import main

raise SystemExit(main())
