"""What the project index knows about a small multi-module project: the exact facts, module by module."""

from __future__ import annotations

from pathlib import Path

import pytest

from flake8_celery_django.project.facts import CallSiteFact, FieldFact, ReceiverFact, SessionFact, TaskFact
from flake8_celery_django.project.index import build_index
from flake8_celery_django.project.knowledge import ProjectKnowledge
from flake8_celery_django.project.root import find_root, module_name, project_files
from tests.project_files import SHOP, write_project


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("shop"), SHOP)


@pytest.fixture(scope="module")
def knowledge(shop: Path) -> ProjectKnowledge:
    return build_index(str(shop), None).knowledge


# -- root and files -----------------------------------------------------------------------------
def test_files_read_and_their_module_names(shop: Path) -> None:
    # src/ is not a package, so it is not part of the names; node_modules, a virtualenv and a
    # folder inside a package that is not a package (static/) are not read.
    assert [source.module for source in project_files(str(shop))] == [
        "config", "config.settings", "shop", "shop.base", "shop.celery", "shop.decorators", "shop.http",
        "shop.models", "shop.notify", "shop.services", "shop.signals", "shop.taskbase", "shop.tasks",
    ]


def test_root_is_the_nearest_folder_with_a_marker(shop: Path, tmp_path: Path) -> None:
    assert find_root(str(shop / "src" / "shop" / "models.py")) == str(shop)
    nested = write_project(tmp_path, {".git/HEAD": "", "inner/setup.cfg": "", "inner/pkg/__init__.py": ""})
    assert find_root(str(nested / "inner" / "pkg" / "__init__.py")) == str(nested / "inner")
    assert find_root(str(nested / "tool.py")) == str(nested)


def test_a_setup_or_manage_module_inside_a_package_is_not_a_marker(tmp_path: Path) -> None:
    # ``app/views/setup.py`` is a view module: the project is the folder with ``pyproject.toml``.
    project = write_project(
        tmp_path,
        {
            "pyproject.toml": "",
            "app/__init__.py": "",
            "app/views/__init__.py": "",
            "app/views/setup.py": "",
            "app/views/manage.py": "",
            "app/views/home.py": "",
            "tool/setup.py": "",
            "tool/cli.py": "",
        },
    )
    assert find_root(str(project / "app" / "views" / "home.py")) == str(project)
    # A folder that is not a package keeps ``setup.py`` as its marker.
    assert find_root(str(project / "tool" / "cli.py")) == str(project / "tool")


def test_root_without_a_marker_is_above_the_outermost_package(tmp_path: Path) -> None:
    write_project(tmp_path, {"lib/app/__init__.py": "", "lib/app/sub/__init__.py": "", "lib/app/sub/m.py": ""})
    assert find_root(str(tmp_path / "lib" / "app" / "sub" / "m.py")) in (str(tmp_path / "lib"),)
    assert module_name(str(tmp_path / "lib" / "app" / "sub" / "m.py")) == ("app.sub.m", False)
    assert module_name(str(tmp_path / "lib" / "app" / "__init__.py")) == ("app", True)


def test_a_root_without_a_marker_reads_only_its_files_and_packages(tmp_path: Path) -> None:
    # (a home folder holding one script must not be walked whole)
    write_project(tmp_path, {"top.py": "", "app/__init__.py": "", "app/m.py": "", "notes/old/x.py": ""})
    assert [source.module for source in project_files(str(tmp_path), explicit=False)] == ["top", "app", "app.m"]
    # given by --cdj-project-root, or holding a marker: folders that are not packages are walked too
    assert [source.module for source in project_files(str(tmp_path))] == ["top", "app", "app.m", "x"]
    (tmp_path / "setup.cfg").write_text("")
    assert [source.module for source in project_files(str(tmp_path), explicit=False)] == ["top", "app", "app.m", "x"]


# -- models -------------------------------------------------------------------------------------
def test_model_through_a_project_abstract_base_in_another_module(knowledge: ProjectKnowledge) -> None:
    order = knowledge.model("shop.models.Order")
    assert order is not None
    assert order.bases == ("shop.base.TimeStamped",)
    assert not order.abstract
    base = knowledge.model("shop.base.TimeStamped")
    assert base is not None and base.abstract
    # an inherited field is found through the abstract base
    assert knowledge.model_field(order, "created") == FieldFact("created", "plain", field_class="DateTimeField")


def test_relation_targets_self_app_label_and_user_model(knowledge: ProjectKnowledge) -> None:
    order = knowledge.model("shop.models.Order")
    assert order is not None
    assert knowledge.model_field(order, "parent") == FieldFact(
        "parent", "foreign_key", "shop.models.Order", field_class="ForeignKey", related_name="children"
    )
    assert knowledge.model_field(order, "tags") == FieldFact(
        "tags", "many_to_many", "shop.models.Tag", field_class="ManyToManyField"
    )
    # settings.AUTH_USER_MODEL, resolved through the settings module's AUTH_USER_MODEL = "shop.Customer"
    assert knowledge.model_field(order, "owner") == FieldFact(
        "owner", "foreign_key", "shop.models.Customer", field_class="ForeignKey", related_name="%(class)s_owned"
    )
    line = knowledge.model("Line")
    assert line is not None
    # a bare class name in a string: a model of the same app
    assert knowledge.model_field(line, "note") == FieldFact(
        "note", "foreign_key", "shop.models.Tag", field_class="ForeignKey", related_name="+"
    )


def test_reverse_relations_belong_to_the_target(knowledge: ProjectKnowledge) -> None:
    order, customer, tag = (knowledge.model(name) for name in ("Order", "Customer", "Tag"))
    assert order is not None and customer is not None and tag is not None
    assert [f for f in order.fields if f.reverse] == [
        FieldFact("children", "foreign_key", "shop.models.Order", reverse=True),
        FieldFact("lines", "foreign_key", "shop.models.Line", reverse=True),
    ]
    # the abstract base's related_name with %(class)s, and a one-to-one's default name
    assert [f for f in customer.fields if f.reverse] == [
        FieldFact("order_owned", "foreign_key", "shop.models.Order", reverse=True),
        FieldFact("profile", "one_to_one", "shop.models.Profile", reverse=True),
    ]
    # Django's default <model>_set; related_name="+" adds nothing to Tag
    assert [f.name for f in tag.fields if f.reverse] == ["order_set"]
    lines = knowledge.model_field(order, "lines")
    assert lines is not None and lines.is_many
    profile = knowledge.model_field(customer, "profile")
    assert profile is not None and not profile.is_many


def test_uniqueness(knowledge: ProjectKnowledge) -> None:
    order, line, tag, profile = (knowledge.model(name) for name in ("Order", "Line", "Tag", "Profile"))
    assert order is not None and line is not None and tag is not None and profile is not None
    assert knowledge.unique_lookup(order, ["number"])  # unique=True
    assert not knowledge.unique_lookup(order, ["total"])
    assert knowledge.unique_lookup(tag, ["slug"])  # primary_key=True
    assert knowledge.unique_lookup(profile, ["customer_id"])  # OneToOneField
    assert line.unique_together == (frozenset({"order", "sku"}),)  # the conditional constraint is not there
    assert knowledge.unique_lookup(line, ["order_id", "sku"])
    assert not knowledge.unique_lookup(line, ["sku"])
    assert tag.unique_together == (frozenset({"slug"}),)  # UniqueConstraint without a condition


def test_managers_and_overrides(knowledge: ProjectKnowledge) -> None:
    order, line = knowledge.model("Order"), knowledge.model("Line")
    assert order is not None and line is not None
    assert order.managers == frozenset({"objects", "all_objects"})
    assert (order.overrides_save, order.overrides_delete) == (True, False)
    assert (line.overrides_save, line.overrides_delete) == (False, True)
    # save() reads self.total and self.shipping; only total is a field
    assert order.save_reads == frozenset({"total"})
    # what the class bodies define with ``def``: never a relation
    assert (order.methods, line.methods) == (frozenset({"save"}), frozenset({"delete"}))


def test_not_models(knowledge: ProjectKnowledge) -> None:
    assert not knowledge.is_model("shop.models.NotAModel")
    assert not knowledge.is_model("shop.models.OrderQuerySet")
    assert knowledge.is_model("shop.models.Customer")  # through AbstractUser


# -- tasks --------------------------------------------------------------------------------------
def test_tasks_through_a_project_decorator_two_levels_deep(knowledge: ProjectKnowledge) -> None:
    assert knowledge.task_decorators == frozenset(
        {"shop.decorators.task", "shop.decorators.periodic", "shop.decorators.queued_task", "shop.decorators.our_task"}
    )
    assert knowledge.task("shop.tasks.send_receipt") == TaskFact(
        "shop.tasks.send_receipt",
        parameters=("order", "lines", "note"),
        model_parameters=(("order", "shop.models.Order"), ("lines", "shop.models.Line")),
        decorator="shop.decorators.task",
    )
    assert knowledge.task("shop.tasks.refund") == TaskFact(
        "shop.tasks.refund",
        parameters=("orders", "reason"),
        model_parameters=(("orders", "shop.models.Order"), ("reason", "shop.models.Order")),
        bind=True,
        decorator="shop.decorators.task",
    )
    # a decorator that applies another project decorator; a string annotation
    assert knowledge.task("shop.tasks.nightly") == TaskFact(
        "shop.tasks.nightly",
        parameters=("day",),
        model_parameters=(("day", "shop.models.Order"),),
        decorator="shop.decorators.periodic",
    )
    assert knowledge.task("shop.tasks.ping") == TaskFact(
        "shop.tasks.ping", parameters=("line",), model_parameters=(("line", "shop.models.Line"),)
    )
    # a module-level alias of shared_task
    assert knowledge.task("shop.tasks.renamed") == TaskFact(
        "shop.tasks.renamed", parameters=("order_id",), bind=True, decorator="shop.decorators.our_task"
    )
    assert knowledge.task("shop.tasks.not_a_task") is None
    assert not knowledge.is_task_decorator("shop.decorators.logged")


def test_task_bases_defer_to_on_commit_transitively(knowledge: ProjectKnowledge) -> None:
    on_commit, lookup, plain = (knowledge.task_base(name) for name in ("OnCommitTask", "LookupTask", "PlainTask"))
    assert on_commit is not None and lookup is not None and plain is not None
    assert (on_commit.defers_to_on_commit, on_commit.resolves_keys) == (True, False)
    assert (lookup.defers_to_on_commit, lookup.resolves_keys, lookup.autoretry_for) == (True, True, True)
    assert (plain.defers_to_on_commit, plain.retry_backoff) == (False, True)
    ship = knowledge.task("shop.tasks.ship")
    assert ship is not None and ship.base == "shop.taskbase.LookupTask"
    assert knowledge.task_defers_to_on_commit(ship)
    # the app's task_cls="shop.taskbase:OnCommitTask" covers tasks without a base of their own
    assert knowledge.settings.task_cls == "shop.taskbase.OnCommitTask"
    ping = knowledge.task("shop.tasks.ping")
    assert ping is not None and knowledge.task_defers_to_on_commit(ping)


def test_a_base_that_does_not_defer(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "setup.py": "",
        "app/__init__.py": "",
        "app/base.py": """
            from celery import Task

            class Logged(Task):
                def apply_async(self, *args, **kwargs):
                    print("sending")
                    return super().apply_async(*args, **kwargs)
            """,
        "app/tasks.py": """
            from celery import shared_task
            from app.base import Logged

            @shared_task(base=Logged)
            def work(x):
                pass
            """,
    })
    knowledge = build_index(str(tmp_path), None).knowledge
    work = knowledge.task("app.tasks.work")
    assert work is not None and work.base == "app.base.Logged"
    assert not knowledge.task_defers_to_on_commit(work)


# -- HTTP -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("shop.http.plain_session", SessionFact("shop.http.plain_session", False, "factory", "requests.Session")),
        (
            "shop.http.mounted_session",
            SessionFact(
                "shop.http.mounted_session", True, "factory", "requests.Session", ("shop.http.TimeoutAdapter",)
            ),
        ),
        ("shop.http.partial_session", SessionFact("shop.http.partial_session", True, "factory", "requests.Session")),
        (
            "shop.http.subclass_session",
            SessionFact("shop.http.subclass_session", True, "factory", "shop.http.TimeoutSession"),
        ),
        ("shop.http.TimeoutSession", SessionFact("shop.http.TimeoutSession", True, "class", "requests.Session")),
        ("shop.http.PlainSession", SessionFact("shop.http.PlainSession", False, "class", "requests.Session")),
        (
            "shop.http.Client.session",
            SessionFact("shop.http.Client.session", False, "holder", "shop.http.plain_session"),
        ),
        ("shop.http.Client.safe", SessionFact("shop.http.Client.safe", True, "holder", "shop.http.mounted_session")),
    ],
)
def test_sessions(knowledge: ProjectKnowledge, name: str, expected: SessionFact) -> None:
    assert knowledge.session(name) == expected


def test_adapters_are_not_sessions(knowledge: ProjectKnowledge) -> None:
    assert knowledge.session("shop.http.TimeoutAdapter") is None


# -- settings, receivers, call sites ----------------------------------------------------------------
def test_settings(knowledge: ProjectKnowledge) -> None:
    settings = knowledge.settings
    assert (settings.atomic_requests, settings.task_serializer, settings.user_model) == (
        True, "json", "shop.models.Customer"
    )


@pytest.mark.parametrize(
    ("source", "atomic"),
    [
        ('DATABASES = {"default": {"ATOMIC_REQUESTS": False}}', False),
        # Django reads ATOMIC_REQUESTS per database only (django/core/handlers/base.py): a top-level one does nothing.
        ('ATOMIC_REQUESTS = True', None),
        ('DATABASES = {"default": {"ATOMIC_REQUESTS": False}}\nATOMIC_REQUESTS = True', False),
        ('DATABASES = {}\nDATABASES["default"]["ATOMIC_REQUESTS"] = True', True),
        ('DATABASES = {"default": {"NAME": "x"}}', None),
    ],
)
def test_atomic_requests_forms(tmp_path: Path, source: str, atomic: bool | None) -> None:
    write_project(tmp_path, {"manage.py": "", "site/__init__.py": "", "site/settings/__init__.py": "",
                             "site/settings/base.py": source})
    assert build_index(str(tmp_path), None).knowledge.settings.atomic_requests is atomic


def test_serializer_from_the_celery_app(tmp_path: Path) -> None:
    write_project(tmp_path, {".flake8": "", "proj/__init__.py": "", "proj/worker.py": """
        from celery import Celery
        app = Celery("proj")
        app.conf.update(task_serializer="pickle")
        """})
    assert build_index(str(tmp_path), None).knowledge.settings.task_serializer == "pickle"


def test_receivers(knowledge: ProjectKnowledge) -> None:
    assert knowledge.receivers == (
        ReceiverFact("shop.signals.order_changed", "post_save", "shop.models.Order"),
        ReceiverFact("shop.signals.order_changed", "post_delete", "shop.models.Order"),
        ReceiverFact("shop.signals.line_saved", "pre_save", "shop.models.Line"),
    )
    assert knowledge.receivers_of("Order", ["post_save"]) == knowledge.receivers[:1]
    assert knowledge.receivers_of("shop.models.Line", ["post_save"]) == ()


def test_call_sites_from_on_commit_and_under_a_row_lock(knowledge: ProjectKnowledge) -> None:
    assert knowledge.call_sites("shop.notify.send") == (
        CallSiteFact("shop.services.place", on_commit=True),  # lambda: notify.send(order_id)
        CallSiteFact("shop.services.place", on_commit=True, literal_arguments=frozenset({"0"})),  # partial
        CallSiteFact("shop.services.place", literal_arguments=frozenset({"tags"})),
        CallSiteFact("shop.services.charge", locked=True, atomic=True),  # after select_for_update() in atomic()
        CallSiteFact("shop.services.charge"),  # after the atomic block ended
    )
    assert knowledge.call_sites("shop.models.OrderQuerySet.as_manager") == ()


def test_a_generic_foreign_key_is_its_own_kind(tmp_path: Path) -> None:
    # GenericForeignKey("content_type", "object_id") names its two columns: no target, no reverse
    # relation, no ``<name>_id`` column; a ForeignKey subclass named after it is still a foreign key
    write_project(
        tmp_path,
        {
            "pyproject.toml": "",
            "app/__init__.py": "",
            "app/models.py": """
                from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
                from django.db import models


                class content_type(models.Model):
                    pass


                class Comment(models.Model):
                    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
                    object_id = models.PositiveIntegerField()
                    target = GenericForeignKey("content_type", "object_id")
                    author = TreeForeignKey("Post", on_delete=models.CASCADE)


                class Post(models.Model):
                    comments = GenericRelation(Comment)
                """,
        },
    )
    knowledge = build_index(str(tmp_path), str(tmp_path / "cache")).knowledge
    comment, post, named = (knowledge.model(f"app.models.{name}") for name in ("Comment", "Post", "content_type"))
    assert comment is not None and post is not None and named is not None
    target = knowledge.model_field(comment, "target")
    assert target == FieldFact("target", "generic_foreign_key", field_class="GenericForeignKey")
    assert target.is_relation and not target.is_many
    assert knowledge.model_field(comment, "author") == FieldFact(
        "author", "foreign_key", "app.models.Post", field_class="TreeForeignKey"
    )
    assert [f.name for f in post.fields if f.reverse] == ["comment_set"]
    assert [f.name for f in named.fields] == []
    # read back from the cache, the kind is the same
    again = build_index(str(tmp_path), str(tmp_path / "cache"))
    assert again.raw is None
    stored = again.knowledge.model("app.models.Comment")
    assert stored is not None and again.knowledge.model_field(stored, "target") == target
