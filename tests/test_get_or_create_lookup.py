from __future__ import annotations

from pathlib import Path

import pytest

from flake8_celery_django.project.facts import FieldFact, ModelFact, ModuleFacts
from tests.cases import Case, assert_case, invalid, valid
from tests.project_cases import findings_in_project
from tests.project_files import findings_in, write_project

MODELS = """
from django.db import models

class Org(models.Model):
    slug = models.SlugField(unique=True)

class Member(models.Model):
    org = models.ForeignKey(Org, on_delete=models.CASCADE)
    email = models.EmailField()
    code = models.CharField(max_length=5, primary_key=True)
    class Meta:
        unique_together = ("org", "email")

class Tag(models.Model):
    org = models.ForeignKey(Org, on_delete=models.CASCADE)
    name = models.CharField(max_length=10)
    label = models.CharField(max_length=10)
    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="tag", condition=models.Q(active=True)),
            models.UniqueConstraint("org", "label", name="label"),
        ]

class Widget(models.Model):
    node = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey("self", null=True, on_delete=models.CASCADE)
    class Meta:
        constraints = [
            models.UniqueConstraint("node", condition=models.Q(source__isnull=True), name="a"),
            models.UniqueConstraint("node", condition=models.Q(source__isnull=False), name="b"),
        ]

class Relation(models.Model):
    source = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    class Meta:
        constraints = [models.UniqueConstraint(Least("source", "target"), Greatest("source", "target"), name="r")]
"""

ALERTS = """
from django.db import models

class Alert(models.Model):
    summary = models.IntegerField()
    signature = models.IntegerField()
    sheriffed = models.BooleanField(default=True)
    status = models.IntegerField(default=0)
    class Meta:
        unique_together = ("summary", "signature", "sheriffed")
"""

BUGS = """
from django.db import models

class Bug(models.Model):
    bugzilla_id = models.PositiveIntegerField(null=True)
    summary = models.CharField(max_length=255)
    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bugzilla_id"], condition=models.Q(bugzilla_id__isnull=False), name="b")
        ]
"""

SOFT_DELETED = """
from django.db import models

class Project(models.Model):
    name = models.CharField(max_length=10)

class Vote(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    actor = models.CharField(max_length=10)
    deleted_at = models.DateTimeField(null=True)
    class Meta:
        unique_together = ["project", "actor", "deleted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "actor"], condition=models.Q(deleted_at__isnull=True), name="vote"
            ),
        ]

class Feature(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    xpath = models.CharField(max_length=10)
    class Meta:
        constraints = [models.UniqueConstraint(fields=["project_id", "xpath"], name="feature")]
"""

CASES: list[Case] = [
    invalid(
        "CDJ303",
        MODELS
        + """
class Audit(models.Model):
    membership = models.ForeignKey("Membership", on_delete=models.CASCADE)

class Membership(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE)
    note = models.TextField()
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        Tag.objects.get_or_create(name=self.note)
        Audit.objects.get_or_create(membership=self)

def sync(org, rows):
    Member.objects.get_or_create(email="a", defaults={"org": org})
    Tag.objects.update_or_create(org=org, label__iexact="x")
    Org.objects.filter(slug__startswith="a").get_or_create(name="b")
    Audit.objects.get_or_create(membership=rows[0])
    Tag.objects.get_or_create(org=org, name="x")
""",
        (47, 8), (51, 4), (52, 4), (53, 4), (54, 4), (55, 4),
    ),
    valid(
        "CDJ303",
        MODELS
        + """
def sync(org, rows, lookup):
    Org.objects.get_or_create(slug="a", defaults={"name": "x"})
    Member.objects.get_or_create(org=org, email="a")
    Member.objects.get_or_create(org_id=org.pk, email="a")
    Member.objects.filter(org=org).get_or_create(email="a")
    Member.objects.update_or_create(code="x", defaults={"email": "a"})
    Tag.objects.get_or_create(pk=3)
    Tag.objects.get_or_create(**lookup)
    Tag.objects.get_or_create(defaults={"name": "x"})
    Tag.objects.get_or_create(org=org, label="x")
    Relation.objects.get_or_create(source=rows[0], target=rows[1])
    Widget.objects.update_or_create(node_id=3, defaults={"source": None})
    Tag.objects.get_or_create(name="x", created=timezone.now())
    try:
        Tag.objects.get_or_create(name="x")
    except Tag.MultipleObjectsReturned:
        Tag.objects.filter(name="x").first()
""",
    ),
    # A constraint on the rows not soft-deleted covers the row the call creates when it leaves the
    # field unset; a constraint's ``fk_id`` is the lookup's ``fk``.
    valid(
        "CDJ303",
        SOFT_DELETED
        + """
def vote(project, options):
    Vote.objects.get_or_create(project=project, actor="a")
    Vote.objects.get_or_create(project_id=project.pk, actor="a", defaults={"name": "x"})
    Vote.objects.update_or_create(project=project, actor="a", defaults=options)
    Feature.objects.get_or_create(project=project, xpath="x")
    Feature.objects.get_or_create(project_id=project.pk, xpath="x")
""",
    ),
    invalid(
        "CDJ303",
        SOFT_DELETED
        + """
def vote(project, when):
    Vote.objects.get_or_create(project=project, actor="a", defaults={"deleted_at": when})
    Vote.objects.get_or_create(actor="a")
    Feature.objects.get_or_create(xpath="x")
""",
        (26, 4), (27, 4), (28, 4),
    ),
    # A constraint field the lookup leaves out but every insert fills with the same literal default
    # (treeherder's sheriffed=True): racing inserts collide on it; not when defaults may set it.
    valid(
        "CDJ303",
        ALERTS
        + """
def create(summary, signature):
    Alert.objects.get_or_create(summary=summary, signature=signature, defaults={"status": 0})
""",
    ),
    invalid(
        "CDJ303",
        ALERTS
        + """
def create(summary, signature, options):
    Alert.objects.get_or_create(summary=summary, signature=signature, defaults={"sheriffed": False})
    Alert.objects.get_or_create(summary=summary, signature=signature, defaults=options)
    Alert.objects.get_or_create(summary=summary, status=0)
""",
        (13, 4), (14, 4), (15, 4),
    ),
    # A constraint on the rows that have a value covers a lookup that gives the field one
    # (treeherder's Bugscache: unique bugzilla_id among the rows that have one); not a lookup without it.
    valid(
        "CDJ303",
        BUGS
        + """
def sync(bug):
    Bug.objects.update_or_create(bugzilla_id=bug["id"], defaults={"summary": bug["summary"]})
""",
    ),
    invalid(
        "CDJ303",
        BUGS
        + """
def sync(bug):
    Bug.objects.get_or_create(summary=bug["summary"])
""",
        (13, 4),
    ),
    valid(
        "CDJ303",
        """
from shop.models import Tag
def sync():
    Tag.objects.get_or_create(name="x")
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_case(case: Case) -> None:
    assert_case(case)


PROJECT = [
    ModuleFacts(
        "shop.models",
        models=(
            ModelFact("shop.models.Base", abstract=True, fields=(FieldFact("slug", "plain", unique=True),)),
            ModelFact("shop.models.Tag", bases=("shop.models.Base",), fields=(FieldFact("name", "plain"),)),
        ),
    )
]


def test_model_and_its_base_from_the_project_index() -> None:
    source = """
    from shop.models import Tag
    def sync():
        Tag.objects.get_or_create(slug="x")
        Tag.objects.get_or_create(name="x")
    """
    assert findings_in_project(source, "CDJ303", "shop.sync", PROJECT) == [
        (5, 4, "CDJ303 get_or_create(name) races: add a unique constraint on these fields to Tag"),
    ]


@pytest.mark.parametrize("module", ["shop.tests.test_sync", "shop.management.commands.load_tags"])
def test_tests_and_management_commands_run_alone(module: str) -> None:
    source = """
    from shop.models import Tag
    def handle():
        Tag.objects.get_or_create(name="x")
    """
    assert findings_in_project(source, "CDJ303", module, PROJECT) == []


def test_a_base_outside_the_project_may_hold_the_constraint() -> None:
    source = """
    from django.contrib.auth.models import AbstractUser
    class User(AbstractUser):
        nickname = models.CharField(max_length=10)
    def sync():
        User.objects.get_or_create(username="x")
    """
    assert findings_in_project(source, "CDJ303", "accounts.sync", PROJECT) == []


def test_a_project_mixin_declares_no_constraint() -> None:
    source = """
    from django.db import models
    from shop.mixins import Audited
    class Local:
        pass
    class Tag(Audited, Local, models.Model):
        name = models.CharField(max_length=10)
    def sync():
        Tag.objects.get_or_create(name="x")
    """
    project = [*PROJECT, ModuleFacts("shop.mixins")]
    assert findings_in_project(source, "CDJ303", "shop.sync", project) == [
        (9, 4, "CDJ303 get_or_create(name) races: add a unique constraint on these fields to Tag"),
    ]


def test_key_of_a_relation_whose_field_class_is_unknown() -> None:
    source = """
    from django.db import models
    class Association(models.Model):
        group = models.ForeignKey("Group", on_delete=models.CASCADE)
        object_type = ContentTypeKey(to="contenttypes.ContentType")
        class Meta:
            unique_together = [["group", "object_type", "object_id"]]
    def add(group, pk):
        Association.objects.get_or_create(group=group, object_type_id=3, object_id=pk)
        Association.objects.get_or_create(group=group, object_id=pk)
    """
    assert findings_in_project(source, "CDJ303", "shop.groups", PROJECT) == [
        (10, 4, "CDJ303 get_or_create(group, object_id) races: add a unique constraint on these fields to Association"),
    ]


def test_a_column_named_like_a_key_is_that_column() -> None:
    association = ModelFact(
        "shop.models.Association",
        fields=(
            FieldFact("group", "foreign_key", "shop.models.Tag"),
            FieldFact("object_id", "plain", field_class="UUIDField"),
            FieldFact("object", "generic_foreign_key", field_class="GenericForeignKey"),
        ),
        unique_together=(frozenset({"group", "object_id"}),),
    )
    source = """
    from shop.models import Association
    def add(group, pk):
        Association.objects.get_or_create(group=group, object_id=pk)
        Association.objects.get_or_create(object_id=pk)
    """
    project = [*PROJECT, ModuleFacts("shop.models", models=(association,))]
    assert findings_in_project(source, "CDJ303", "shop.groups", project) == [
        (5, 4, "CDJ303 get_or_create(object_id) races: add a unique constraint on these fields to Association"),
    ]


IMPORTER = {
    "setup.cfg": "",
    "shop/__init__.py": "",
    "shop/models.py": """
        from django.db import models


        class Mapping(models.Model):
            graph = models.IntegerField()
            mapping = models.JSONField()
        """,
    "shop/importer.py": """
        from shop.models import Mapping


        def import_mapping(graph, mapping):
            Mapping.objects.update_or_create(graph=graph, mapping=mapping)


        def import_graph(graph):
            Mapping.objects.get_or_create(graph=graph)


        def unused(graph):
            Mapping.objects.get_or_create(graph=graph)


        def import_all(graphs):
            for graph in graphs:
                _store(graph)


        def _store(graph):
            Mapping.objects.get_or_create(graph=graph)
        """,
    "shop/management/__init__.py": "",
    "shop/management/commands/__init__.py": "",
    "shop/management/commands/packages.py": """
        from django.core.management.base import BaseCommand

        import shop.importer as graph_importer


        class Command(BaseCommand):
            def handle(self, *args, **options):
                graph_importer.import_mapping(1, {})
                graph_importer.import_graph(1)
                graph_importer.import_all([1])
        """,
    "shop/tests/__init__.py": "",
    "shop/tests/test_importer.py": """
        from shop.importer import import_all, import_mapping


        def test_import():
            import_mapping(1, {})
            import_all([2])
        """,
    "shop/views.py": """
        from shop.importer import import_graph


        def upload(request):
            import_graph(request.POST["graph"])
        """,
}


def test_a_function_only_management_commands_call_runs_alone_and_its_helpers(tmp_path: Path) -> None:
    root = write_project(tmp_path, IMPORTER)
    assert findings_in(root, "shop/importer.py", frozenset({"CDJ303"})) == [
        (9, 4, "CDJ303 get_or_create(graph) races: add a unique constraint on these fields to Mapping"),
        (13, 4, "CDJ303 get_or_create(graph) races: add a unique constraint on these fields to Mapping"),
    ]
