"""flake8-celery-django: a flake8 plugin for the Django and Celery bugs that take production down."""

__version__ = "0.1.0"
