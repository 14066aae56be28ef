"""Code only management commands, migrations and tests run: the cost rules and CDJ2xx leave it alone."""

from __future__ import annotations

import textwrap
from pathlib import Path

from flake8_celery_django.api import check_source
from flake8_celery_django.knowledge.operator_code import MAX_CALL_DEPTH
from flake8_celery_django.registry import RULES
from flake8_celery_django.settings import Settings
from tests.project_files import findings_in, write_project

Located = tuple[int, int, str]

MODELS = """
    from django.db import models


    class Category(models.Model):
        name = models.CharField(max_length=20)


    class Tag(models.Model):
        name = models.CharField(max_length=20)


    class Product(models.Model):
        name = models.CharField(max_length=20)
        price = models.IntegerField()
        stock = models.IntegerField()
        category = models.ForeignKey(Category, on_delete=models.CASCADE)
        tags = models.ManyToManyField(Tag)
    """

COMMAND_PACKAGES = {
    "setup.cfg": "",
    "shop/__init__.py": "",
    "shop/models.py": MODELS,
    "shop/management/__init__.py": "",
    "shop/management/commands/__init__.py": "",
}

# The same body twice: once in a function only the populatedb command calls, once in one a view
# calls too. Every cost rule reports the second and none the first.
EVERY_COST_RULE = {
    **COMMAND_PACKAGES,
    "shop/sample_data.py": """
        from shop.models import Category, Product


        def create_sample_data():
            for product in Product.objects.all():
                Product.objects.create(name=product.name)
                product.price = 2
                product.save()
                Category.objects.filter(name=product.name).first()
                list(product.tags.all())
                print(product.category.name)
                Category.objects.get_or_create(name=product.name)
            for category in Category.objects.all():
                category.delete()


        def rebuild_catalogue():
            for product in Product.objects.all():
                Product.objects.create(name=product.name)
                product.price = 2
                product.save()
                Category.objects.filter(name=product.name).first()
                list(product.tags.all())
                print(product.category.name)
                Category.objects.get_or_create(name=product.name)
            for category in Category.objects.all():
                category.delete()
        """,
    "shop/management/commands/populatedb.py": """
        from django.core.management.base import BaseCommand

        from shop import sample_data


        class Command(BaseCommand):
            def handle(self, *args, **options):
                sample_data.create_sample_data()
                sample_data.rebuild_catalogue()
        """,
    "shop/views.py": """
        from shop.sample_data import rebuild_catalogue


        def rebuild(request):
            rebuild_catalogue()
        """,
}


def test_every_cost_rule_leaves_alone_a_function_only_a_command_calls(tmp_path: Path) -> None:
    root = write_project(tmp_path, EVERY_COST_RULE)
    assert findings_in(root, "shop/sample_data.py", frozenset(RULES)) == [
        (19, 8, "CDJ401 Product.objects.create() inserts one row per loop iteration; use bulk_create()"),
        (21, 8, "CDJ402 product.save() updates once per loop iteration; use bulk_update()"),
        (22, 8, "CDJ404 Category.objects.filter().first() runs one query per loop iteration; fetch before the loop"),
        (23, 13, 'CDJ405 product.tags.all() queries once per Product row (N+1); add prefetch_related("tags")'),
        (24, 14, 'CDJ406 product.category is a query per row; add select_related("category") to the queryset'),
        (25, 8, "CDJ303 get_or_create(name) races: add a unique constraint on these fields to Category"),
        (25, 8, "CDJ409 Category.objects.get_or_create() queries per loop iteration; batch with bulk_create()"),
        (27, 8, "CDJ403 category.delete() runs one DELETE per loop iteration; delete once with pk__in"),
    ]


def test_without_the_project_index_no_caller_is_known(tmp_path: Path) -> None:
    root = write_project(tmp_path, EVERY_COST_RULE)
    codes = frozenset({"CDJ401"})
    assert findings_in(root, "shop/sample_data.py", codes, project_index=False) == [
        (6, 8, "CDJ401 Product.objects.create() inserts one row per loop iteration; use bulk_create()"),
        (19, 8, "CDJ401 Product.objects.create() inserts one row per loop iteration; use bulk_create()"),
    ]


QUERY = "Category.objects.filter(name=product.name).first()"
# one() <- caller_2() <- ... <- caller_9(): the command calls the last two, and the last is one call
# past the bound on callers of callers.
LINKS = [f"caller_{k}" for k in range(2, MAX_CALL_DEPTH + 2)]
CHAIN = "\n\n\n".join(
    f"        def {name}():\n            {callee}()" for name, callee in zip(LINKS, ["one", *LINKS])
)
CALLERS = {
    **COMMAND_PACKAGES,
    "shop/loaders.py": f"""
        from celery import shared_task
        from django.db.models.signals import post_save
        from django.dispatch import receiver

        from shop.models import Category, Product


        def load():
            _load_products()

            def nested():
                for product in Product.objects.all():
                    {QUERY}

            nested()


        def _load_products():
            for product in Product.objects.all():
                {QUERY}


        def load_for_tests():
            for product in Product.objects.all():
                {QUERY}


        def load_for_a_test_case():
            for product in Product.objects.all():
                {QUERY}


        def load_tree(products):
            for product in products.all():
                {QUERY}
                load_tree(Product.objects.filter(category=product.category))


        def never_called():
            for product in Product.objects.all():
                {QUERY}


        @shared_task
        def load_task():
            for product in Product.objects.all():
                {QUERY}


        @receiver(post_save, sender=Category)
        def load_on_save(sender, instance, **kwargs):
            for product in Product.objects.all():
                {QUERY}


        def load_on_import():
            for product in Product.objects.all():
                {QUERY}


        def one():
            for product in Product.objects.all():
                {QUERY}


{CHAIN}


        def load_testimonials():
            for product in Product.objects.all():
                {QUERY}
        """,
    "shop/management/commands/load.py": f"""
        from django.core.management.base import BaseCommand

        from shop import loaders
        from shop.loaders import load, load_on_save, load_task, load_tree


        class Command(BaseCommand):
            def handle(self, *args, **options):
                load()
                load_tree(loaders.Product.objects.filter(category=None))
                load_task()
                load_on_save(None, None)
                loaders.{LINKS[-2]}()
                loaders.{LINKS[-1]}()
        """,
    "shop/tests/__init__.py": "",
    "shop/tests/test_loaders.py": """
        from shop.loaders import _load_products, load_for_tests


        def test_load():
            _load_products()
            load_for_tests()
        """,
    "shop/checks.py": """
        from shop.loaders import load_for_a_test_case, load_on_import, load_testimonials


        class LoaderTestCase:
            def test_load(self):
                load_for_a_test_case()


        def testimonials(request):
            load_testimonials()


        load_on_import()
        """,
}


def test_commands_decide_through_the_call_graph_and_tests_count_neither_way(tmp_path: Path) -> None:
    root = write_project(tmp_path, CALLERS)
    message = "CDJ404 Category.objects.filter().first() runs one query per loop iteration; fetch before the loop"
    assert findings_in(root, "shop/loaders.py", frozenset({"CDJ404"})) == [
        # called from tests alone: tests call entry points too (a pipeline step that settings name)
        (25, 8, message),
        (30, 8, message),
        # no caller in the project: a view or a hook may call it
        (41, 8, message),
        # a Celery task and a signal receiver run in production, whoever else calls them
        (47, 8, message),
        (53, 8, message),
        # called when shop.checks is imported
        (58, 8, message),
        # called from the command only through the chain, whose last link is past the bound
        (63, 8, message),
        # a view whose name starts with "test" is not a test
        (4 * MAX_CALL_DEPTH + 68, 8, message),
    ]


def test_the_bound_on_the_call_depth_counts_from_the_function(tmp_path: Path) -> None:
    files = dict(CALLERS)
    last = f"def {LINKS[-1]}():\n            {LINKS[-2]}()\n"
    files["shop/loaders.py"] = files["shop/loaders.py"].replace(last, "")
    command = "shop/management/commands/load.py"
    files[command] = files[command].replace(f"loaders.{LINKS[-1]}()\n", "")
    root = write_project(tmp_path, files)
    # the chain within the bound: one() is left alone
    message = "CDJ404 Category.objects.filter().first() runs one query per loop iteration; fetch before the loop"
    lines = [25, 30, 41, 47, 53, 58, 4 * MAX_CALL_DEPTH + 66]
    assert findings_in(root, "shop/loaders.py", frozenset({"CDJ404"})) == [(line, 8, message) for line in lines]


def test_a_race_in_a_function_only_a_command_calls_is_still_reported(tmp_path: Path) -> None:
    files = {
        **COMMAND_PACKAGES,
        "shop/stock.py": """
            from shop.models import Product


            def restock(pk):
                product = Product.objects.get(pk=pk)
                product.stock = product.stock + 1
                product.save()
            """,
        "shop/management/commands/restock.py": """
            from django.core.management.base import BaseCommand

            from shop.stock import restock


            class Command(BaseCommand):
                def handle(self, *args, **options):
                    restock(options["pk"])
            """,
    }
    root = write_project(tmp_path, files)
    assert findings_in(root, "shop/stock.py", frozenset({"CDJ301"})) == [
        (6, 4, "CDJ301 product.stock is read, changed and saved; use F() or select_for_update()"),
    ]


TEST_CODE = """
    from shop.models import Product


    class TestLoading:
        def load(self):
            for product in Product.objects.all():
                Product.objects.filter(name=product.name).first()


    class LoadingTests(TestCase):
        def load(self):
            for product in Product.objects.all():
                Product.objects.filter(name=product.name).first()


    class Testimonial(models.Model):
        def load(self):
            for product in Product.objects.all():
                Product.objects.filter(name=product.name).first()


    class TestRun(models.Model):
        def load(self):
            for product in Product.objects.all():
                Product.objects.filter(name=product.name).first()


    def testimonials(request):
        for product in Product.objects.all():
            Product.objects.filter(name=product.name).first()


    def testLoading():
        for product in Product.objects.all():
            Product.objects.filter(name=product.name).first()
    """


def test_test_classes_and_functions_are_told_from_models_and_views(tmp_path: Path) -> None:
    files = {"setup.cfg": "", "shop/__init__.py": "", "shop/models.py": MODELS, "shop/x.py": TEST_CODE}
    root = write_project(tmp_path, files)
    message = "CDJ404 Product.objects.filter().first() runs one query per loop iteration; fetch before the loop"
    assert findings_in(root, "shop/x.py", frozenset({"CDJ404"})) == [
        # a model named like a test class; a test-named class whose bases are not tests (kiwitcms' models)
        (19, 12, message),
        (25, 12, message),
        # a view whose name starts with "test"
        (30, 8, message),
    ]


RUN_PYTHON_HELPERS = """
    def delete_orphans(apps, *args):
        Counter = apps.get_model("logger", "Counter")
        for counter in Counter.objects.filter(user=None):
            Counter.objects.filter(date=counter.date).exists()


    def forwards(apps, schema_editor):
        Counter = apps.get_model("logger", "Counter")
        for counter in Counter.objects.filter(user=None):
            Counter.objects.filter(date=counter.date).exists()


    def count_for(apps, users):
        Counter = apps.get_model("logger", "Counter")
        for counter in Counter.objects.filter(user__in=users):
            Counter.objects.filter(date=counter.date).exists()
    """


def test_a_function_with_the_signature_run_python_calls_is_a_data_migration() -> None:
    settings = Settings(enabled=frozenset({"CDJ404"}), project_index=False)
    source = textwrap.dedent(RUN_PYTHON_HELPERS)
    findings = check_source(source, "logger/utils/counters.py", settings, strict=True)
    assert [(f.line, f.col, f.message) for f in findings] == [
        (17, 8, "CDJ404 Counter.objects.filter().exists() runs one query per loop iteration; fetch before the loop"),
    ]


def test_folders_above_the_project_say_nothing_about_test_code(tmp_path: Path) -> None:
    # A checkout under a folder named ``tests`` is not test code: only the path below the project's
    # root (its marker's folder) counts.
    source = {
        "pyproject.toml": "",
        "shop/__init__.py": "",
        "shop/rates.py": """
            import requests


            def rates(url):
                return requests.get(url).json()
            """,
        "shop/tests/__init__.py": "",
        "shop/tests/test_rates.py": """
            import requests


            def test_rates(live_server):
                assert requests.get(live_server.url).ok
            """,
    }
    root = write_project(tmp_path / "tests" / "checkout", source)
    codes = frozenset({"CDJ201"})
    message = "CDJ201 requests.get() has no timeout and can hang forever; pass timeout=<seconds>"
    assert findings_in(root, "shop/rates.py", codes) == [(5, 11, message)]
    assert findings_in(root, "shop/tests/test_rates.py", codes) == []


def test_a_model_named_like_a_test_class_is_a_caller(tmp_path: Path) -> None:
    # ``TestRun`` here is a model (kiwitcms names its models so): its method is production code, so
    # the helper it calls is not code only a command runs.
    files = {
        "setup.cfg": "",
        "shop/__init__.py": "",
        "shop/models.py": MODELS + """
    from shop import tagging


    class TestRun(models.Model):
        name = models.CharField(max_length=20)

        def tag_all(self):
            tagging.tag_products()
    """,
        "shop/tagging.py": """
            from shop.models import Product, Tag


            def tag_products():
                for product in Product.objects.all():
                    Tag.objects.create(name=product.name)
            """,
        "shop/management/__init__.py": "",
        "shop/management/commands/__init__.py": "",
        "shop/management/commands/tag.py": """
            from django.core.management.base import BaseCommand

            from shop.tagging import tag_products


            class Command(BaseCommand):
                def handle(self, *args, **options):
                    tag_products()
            """,
    }
    root = write_project(tmp_path, files)
    assert findings_in(root, "shop/tagging.py", frozenset({"CDJ401"})) == [
        (6, 8, "CDJ401 Tag.objects.create() inserts one row per loop iteration; use bulk_create()"),
    ]
