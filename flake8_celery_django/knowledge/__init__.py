"""Facts about Django, Celery and HTTP clients, and what one file tells about its names."""
