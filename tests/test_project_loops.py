"""CDJ3xx, CDJ4xx and CDJ50x with what the project index knows, on small projects written to a folder."""

from __future__ import annotations

from pathlib import Path

from flake8_celery_django.api import check_source
from flake8_celery_django.settings import Settings
from tests.cases import all_codes_settings
from tests.project_files import write_project

SHOP = {
    "pyproject.toml": "",
    "shop/__init__.py": "",
    "shop/models.py": """
        from django.db import models


        class Product(models.Model):
            stock = models.IntegerField(default=0)


        class Document(models.Model):
            file = models.FileField()

            def delete(self, *args, **kwargs):
                self.file.delete(save=False)
                super().delete(*args, **kwargs)


        class WebHook(models.Model):
            url = models.URLField()


        class Retry(models.Model):
            webhook = models.ForeignKey(WebHook, on_delete=models.CASCADE, related_name="retries")
        """,
    "shop/tasks.py": """
        from celery import shared_task


        @shared_task
        def ship(order_id):
            pass
        """,
}


def findings(root: Path, relative: str, source: str, settings: Settings | None = None) -> list[tuple[int, int, str]]:
    path = root / relative
    path.write_text(source)
    return [(f.line, f.col, f.code) for f in check_source(source, str(path), settings or all_codes_settings())]


def without_index() -> Settings:
    return Settings(enabled=all_codes_settings().enabled, project_index=False)


SEEDING = """\
from shop.models import Product


def seed(names):
    for name in names:
        Product.objects.create(name=name)
"""


def test_a_parameter_every_caller_fills_with_a_literal_list_is_a_handful(tmp_path: Path) -> None:
    files = dict(SHOP)
    files["shop/setup.py"] = """
        from shop.seeding import seed


        def install():
            seed(["tea", "coffee"])
            seed(names=("cocoa",))
        """
    root = write_project(tmp_path, files)
    assert findings(root, "shop/seeding.py", SEEDING) == []
    assert findings(root, "shop/seeding.py", SEEDING, without_index()) == [(6, 8, "CDJ401")]


def test_a_parameter_one_caller_fills_with_data_is_unbounded(tmp_path: Path) -> None:
    files = dict(SHOP)
    files["shop/setup.py"] = """
        from shop.seeding import seed


        def install(request):
            seed(["tea", "coffee"])
            seed(request.POST.getlist("names"))
        """
    root = write_project(tmp_path, files)
    assert findings(root, "shop/seeding.py", SEEDING) == [(6, 8, "CDJ401")]


PURGE = """\
from shop.models import Document, WebHook


def purge(pk):
    for document in Document.objects.filter(stale=True):
        document.delete()
    webhook = WebHook.objects.get(pk=pk)
    for retry in webhook.retries.all():
        retry.delete()
"""


def test_per_row_deletes_follow_what_the_index_knows_of_the_models(tmp_path: Path) -> None:
    root = write_project(tmp_path, SHOP)
    # Document.delete() removes the file: one by one on purpose. Retry is resolved through WebHook.retries.
    assert findings(root, "shop/purge.py", PURGE) == [(9, 8, "CDJ403")]
    # Without the index, Document may be deleted in bulk and Retry is a row of an unknown model.
    assert findings(root, "shop/purge.py", PURGE, without_index()) == [(6, 8, "CDJ403")]


FINISH = """\
from shop.tasks import ship


def finish(order):
    order.save()
    ship.delay(order.pk)
"""


def test_a_function_only_ever_handed_to_on_commit_runs_after_the_commit(tmp_path: Path) -> None:
    files = dict(SHOP)
    files["shop/views.py"] = """
        from functools import partial

        from django.db import transaction

        from shop.finishing import finish


        def pay(order):
            transaction.on_commit(lambda: finish(order))


        def refund(order):
            transaction.on_commit(partial(finish, order))
        """
    root = write_project(tmp_path / "deferred", files)
    assert findings(root, "shop/finishing.py", FINISH) == []
    files["shop/admin.py"] = """
        from shop.finishing import finish


        def force(order):
            finish(order)
        """
    root = write_project(tmp_path / "called", files)
    assert findings(root, "shop/finishing.py", FINISH) == [(6, 4, "CDJ503")]


TAKE = """\
def take(product, quantity):
    product.stock -= quantity
    product.save()
"""


def test_a_read_modify_write_whose_every_caller_holds_the_row_lock_is_not_a_race(tmp_path: Path) -> None:
    files = dict(SHOP)
    files["shop/views.py"] = """
        from django.db import transaction

        from shop.models import Product
        from shop.stock import take


        def buy(pk):
            with transaction.atomic():
                product = Product.objects.select_for_update().get(pk=pk)
                take(product, 1)
        """
    root = write_project(tmp_path, files)
    assert findings(root, "shop/stock.py", TAKE) == []
    assert findings(root, "shop/stock.py", TAKE, without_index()) == [(2, 4, "CDJ301")]


RESTOCK = """\
from shop.models import Product


def restock(sender, instance, **kwargs):
    return Product.objects.select_for_update().get(pk=instance.product_id)
"""


def test_a_delete_receiver_connected_in_another_module_runs_in_the_deleting_transaction(tmp_path: Path) -> None:
    files = dict(SHOP)
    files["shop/apps.py"] = """
        from django.apps import AppConfig
        from django.db.models.signals import post_delete


        class ShopConfig(AppConfig):
            name = "shop"

            def ready(self):
                from shop.models import Document
                from shop.receivers import restock

                post_delete.connect(restock, sender=Document)
        """
    root = write_project(tmp_path, files)
    assert findings(root, "shop/receivers.py", RESTOCK) == []
    assert findings(root, "shop/receivers.py", RESTOCK, without_index()) == [(5, 11, "CDJ302")]
