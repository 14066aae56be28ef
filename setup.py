"""Build hook: ship the rule pages (docs/rules/*.md) inside the package, for `flake8-celery-django explain`."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PAGES = Path(__file__).resolve().parent / "docs" / "rules"


class BuildPyWithRulePages(build_py):
    """Copy ``docs/rules/CDJxxx.md`` to ``flake8_celery_django/rule_docs/`` in the built package."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "flake8_celery_django" / "rule_docs"
        self.mkpath(str(target))
        for page in sorted(PAGES.glob("CDJ*.md")):
            self.copy_file(str(page), str(target / page.name))


setup(cmdclass={"build_py": BuildPyWithRulePages})
