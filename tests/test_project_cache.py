"""The project index's cache: read back without parsing, invalidated by edits, never trusted blindly."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from flake8_celery_django.project import index, listing
from flake8_celery_django.project.cache import CACHEDIR_TAG, FactsCache
from flake8_celery_django.project.facts import CallSiteFact
from flake8_celery_django.project.knowledge import ProjectKnowledge
from flake8_celery_django.project.root import project_files
from flake8_celery_django.project.stored_calls import group_of
from tests.project_files import SHOP, write_project


def summary(knowledge: ProjectKnowledge) -> dict[str, object]:
    """Every fact the index holds, comparable between two builds (facts compare by value, sets as sets)."""
    return {
        "models": [knowledge.model(name) for name in sorted(knowledge._models.exact)],
        "tasks": [knowledge.task(name) for name in sorted(knowledge._tasks.exact)],
        "bases": [knowledge.task_base(name) for name in sorted(knowledge._task_bases.exact)],
        "sessions": [knowledge.session(name) for name in sorted(knowledge._sessions.exact)],
        "decorators": sorted(knowledge.task_decorators),
        "receivers": knowledge.receivers,
        "settings": knowledge.settings,
        "calls": knowledge.call_sites("shop.notify.send"),
        "modules": sorted(knowledge.modules),
    }


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_project(tmp_path / "shop", SHOP)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the index parses, in order."""
    seen: list[str] = []
    real = index.parse_file

    def counting(path: str):  # type: ignore[no-untyped-def]
        seen.append(os.path.basename(path))
        return real(path)

    monkeypatch.setattr(index, "parse_file", counting)
    return seen


def cache_files(root: Path) -> list[str]:
    return sorted(os.listdir(root / ".cdj_cache"))


def test_first_build_writes_the_cache_folder(shop: Path, parses: list[str]) -> None:
    built = index.build_index(str(shop), None)
    assert len(parses) == 13
    names = cache_files(shop)
    assert names[:2] == [".gitignore", "CACHEDIR.TAG"]
    assert [name.split("-")[0] for name in names[2:]] == ["calls", "files", "listing", "lock", "project"]
    assert (shop / ".cdj_cache" / ".gitignore").read_text() == "*\n"
    assert (shop / ".cdj_cache" / "CACHEDIR.TAG").read_text() == CACHEDIR_TAG
    assert CACHEDIR_TAG.startswith("Signature: 8a477f597d28d172789f06886806bc55\n")
    assert built.knowledge.is_model("shop.models.Order")


def test_unchanged_project_reads_no_source(shop: Path, parses: list[str]) -> None:
    first = summary(index.build_index(str(shop), None).knowledge)
    parses.clear()
    again = index.build_index(str(shop), None)
    assert parses == []
    assert summary(again.knowledge) == first


def test_editing_a_models_file_invalidates_its_facts(shop: Path, parses: list[str]) -> None:
    before = index.build_index(str(shop), None).knowledge
    assert not before.is_model("shop.models.Coupon")
    models = shop / "src" / "shop" / "models.py"
    coupon = "\n\nclass Coupon(models.Model):\n    code = models.CharField(unique=True)\n"
    models.write_text(models.read_text() + coupon)
    status = models.stat()
    os.utime(models, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
    parses.clear()
    after = index.build_index(str(shop), None).knowledge
    assert parses == ["models.py"]  # only the edited file is read again
    coupon = after.model("shop.models.Coupon")
    assert coupon is not None and after.unique_lookup(coupon, ["code"])
    # what depends on it is merged again: the reverse relations of the other models are still there
    order = after.model("shop.models.Order")
    assert order is not None and after.model_field(order, "lines") is not None


def test_a_new_file_is_read(shop: Path, parses: list[str]) -> None:
    index.build_index(str(shop), None)
    extra = "from celery import shared_task\n\n@shared_task\ndef later():\n    pass\n"
    write_project(shop, {"src/shop/extra.py": extra})
    parses.clear()
    knowledge = index.build_index(str(shop), None).knowledge
    assert parses == ["extra.py"]
    assert knowledge.task("shop.extra.later") is not None


class Exploit:
    """A pickle payload: loading it with pickle would create the file named ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def crafted_payloads(marker: str) -> dict[str, bytes]:
    from flake8_celery_django.project.cache import FORMAT

    def document(**fields: object) -> bytes:
        return json.dumps({"format": FORMAT, **fields}).encode()

    return {
        "not json": b"\x00\xffnot json at all {",
        "pickle": pickle.dumps(Exploit(marker)),
        "wrong types": document(fingerprint=1, modules={"a": 1}, facts="x", packages=7, files=[1, 2], calls={}),
        "wrong shapes": document(
            packages=["shop"],
            files={"src/shop/models.py": [1, 2, "shop.models", False, {"module": "shop.models", "models": [[1, 2]]}]},
        ),
        "huge numbers": b'{"format": "' + FORMAT.encode() + b'", "files": {"a.py": [' + b"9" * 5000 + b', 1e999, '
        b'"a", false, {"module": "a"}]}, "fingerprint": ' + b"1" * 5000 + b"}",
        "deep nesting": b"[" * 100_000 + b"]" * 100_000,
        "another version": json.dumps({"format": "flake8-celery-django 0.0 index 0", "files": {}}).encode(),
    }


@pytest.mark.parametrize("payload", list(crafted_payloads("x")))
def test_a_corrupt_or_crafted_cache_is_rebuilt(shop: Path, tmp_path: Path, payload: str) -> None:
    expected = summary(index.build_index(str(shop), str(tmp_path / "clean")).knowledge)
    marker = tmp_path / "exploited"
    folder = tmp_path / "cache"
    cache = FactsCache(str(folder), str(shop))
    folder.mkdir()
    data = crafted_payloads(str(marker))[payload]
    for path in (cache.files_path, cache.project_path, cache.calls_path, cache.listing_path):
        Path(path).write_bytes(data)
    rebuilt = index.build_index(str(shop), str(folder))
    assert summary(rebuilt.knowledge) == expected
    assert not marker.exists()
    # and the cache it wrote back is valid
    assert summary(index.build_index(str(shop), str(folder)).knowledge) == expected


def test_crafted_facts_with_the_right_fingerprint_are_checked(shop: Path, parses: list[str]) -> None:
    """A project file that passes the fingerprint check but holds ill-typed facts is not used."""
    expected = summary(index.build_index(str(shop), None).knowledge)
    cache = FactsCache(str(shop / ".cdj_cache"), str(shop))
    data = json.loads(Path(cache.project_path).read_text())
    data["facts"][0]["models"] = [["shop.models.Evil", [], "yes", [], [], [], False, False, []]]
    Path(cache.project_path).write_text(json.dumps(data))
    parses.clear()
    knowledge = index.build_index(str(shop), None).knowledge
    assert not knowledge.is_model("shop.models.Evil")
    assert summary(knowledge) == expected
    assert parses == []  # each file's facts were still good


def test_a_crafted_model_decoded_on_first_use_is_not_used_and_the_project_is_built_again(
    shop: Path, parses: list[str]
) -> None:
    """Models are decoded when first looked up; one that does not decode is unknown, and the merged
    facts are dropped from the cache so that the next run builds them again."""
    expected = summary(index.build_index(str(shop), None).knowledge)
    cache = FactsCache(str(shop / ".cdj_cache"), str(shop))
    data = json.loads(Path(cache.project_path).read_text())
    evil = ["shop.models.Evil", [], "yes", [], [], [], False, False, [], False, [], [], [], []]
    data["facts"][0]["models"] = [*data["facts"][0].get("models", []), evil]
    Path(cache.project_path).write_text(json.dumps(data))
    parses.clear()
    knowledge = index.build_index(str(shop), None).knowledge
    assert knowledge.may_be_model("Evil")
    assert not knowledge.is_model("shop.models.Evil")
    assert not Path(cache.project_path).exists()
    assert summary(index.build_index(str(shop), None).knowledge) == expected
    assert parses == []  # each file's facts were still good


def replace_call_group(cache: FactsCache, callee: str, text: str) -> None:
    """Write ``text`` in place of the group that holds ``callee``'s call sites, lengths kept right."""
    header, *groups = Path(cache.calls_path).read_text().splitlines(keepends=True)
    groups[group_of(callee)] = text + "\n"
    lengths = {**json.loads(header), "lengths": [len(group) for group in groups]}
    Path(cache.calls_path).write_text(json.dumps(lengths) + "\n" + "".join(groups))


def test_a_question_about_one_callee_reads_its_group_only(shop: Path, parses: list[str]) -> None:
    """Another group that does not decode is never read; the callee's own group is the answer."""
    index.build_index(str(shop), None)
    cache = FactsCache(str(shop / ".cdj_cache"), str(shop))
    callee = "shop.notify.send"
    other = next(name for name in (f"shop.other{n}" for n in range(1000)) if group_of(name) != group_of(callee))
    replace_call_group(cache, other, "[not valid")
    replace_call_group(cache, callee, '{"shop.notify.send": [["shop.views.checkout", 4]]}')
    parses.clear()
    knowledge = index.build_index(str(shop), None).knowledge
    assert knowledge.call_sites(callee) == (CallSiteFact("shop.views.checkout", atomic=True),)
    assert parses == []


@pytest.mark.parametrize(
    "group",
    ["[not valid", '{"shop.notify.send": [["shop.services.place", 99]]}', '{"shop.notify.send": 3}', "[]"],
)
def test_a_crafted_group_of_call_sites_is_read_from_the_files_instead(
    shop: Path, parses: list[str], group: str
) -> None:
    expected = summary(index.build_index(str(shop), None).knowledge)["calls"]
    replace_call_group(FactsCache(str(shop / ".cdj_cache"), str(shop)), "shop.notify.send", group)
    parses.clear()
    knowledge = index.build_index(str(shop), None).knowledge
    assert knowledge.call_sites("shop.notify.send") == expected
    assert parses == []  # each file's facts, from the cache, hold the call sites again


def test_a_calls_file_with_lengths_that_do_not_add_up_is_not_read(shop: Path, parses: list[str]) -> None:
    expected = summary(index.build_index(str(shop), None).knowledge)["calls"]
    cache = FactsCache(str(shop / ".cdj_cache"), str(shop))
    header, rest = Path(cache.calls_path).read_text().split("\n", 1)
    data = json.loads(header)
    data["lengths"] = [10**30] * len(data["lengths"])
    Path(cache.calls_path).write_text(json.dumps(data) + "\n" + rest)
    assert index.build_index(str(shop), None).knowledge.call_sites("shop.notify.send") == expected


def test_a_cold_build_is_held_as_a_warm_run_holds_it(shop: Path, tmp_path: Path, parses: list[str]) -> None:
    """Once the cache is written, the build keeps what a warm run keeps (models and call sites read
    when asked), not every module's facts; a build that could not write its cache keeps them."""
    cold = index.build_index(str(shop), None)
    assert parses != [] and cold.raw is None
    assert summary(cold.knowledge) == summary(index.build_index(str(shop), str(tmp_path / "other")).knowledge)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    unwritable = index.build_index(str(shop), str(blocker / "cache"))
    assert unwritable.raw is not None
    assert summary(unwritable.knowledge) == summary(cold.knowledge)


def test_an_unwritable_cache_falls_back_to_memory(shop: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    built = index.build_index(str(shop), str(blocker / "cache"))  # a folder cannot be made under a file
    assert built.knowledge.is_model("shop.models.Order")
    assert summary(built.knowledge)["calls"] == summary(index.build_index(str(shop), None).knowledge)["calls"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="permissions do not bind root")
def test_a_read_only_tree_falls_back_to_memory(shop: Path) -> None:
    folders = [Path(folder) for folder, _, _ in os.walk(shop)]
    for folder in folders:
        folder.chmod(0o555)
    try:
        assert index.build_index(str(shop), None).knowledge.is_model("shop.models.Order")
        assert not (shop / ".cdj_cache").exists()
    finally:
        for folder in folders:
            folder.chmod(0o755)


BUILD = textwrap.dedent(
    """\
    import sys
    from flake8_celery_django.project import index
    parsed = []
    real = index.parse_file
    index.parse_file = lambda path: parsed.append(path) or real(path)
    built = index.build_index(sys.argv[1], None)
    print("built" if parsed else "read", built.knowledge.is_model("shop.models.Order"))
    """
)


def test_two_processes_building_at_once_build_once_and_leave_a_valid_cache(shop: Path) -> None:
    processes = [
        subprocess.Popen([sys.executable, "-c", BUILD, str(shop)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = sorted(process.communicate(timeout=120)[0].strip() for process in processes)
    assert outputs == ["built True", "read True"]
    files = project_files(str(shop))
    stored = FactsCache(str(shop / ".cdj_cache"), str(shop)).load_project(index.fingerprint(str(shop), list(files)))
    assert stored is not None and "shop.models" in stored[0]


# -- the listing: folders whose times have not changed are not listed again ---------------------
HOUR_NS = 3600 * 1_000_000_000


def settle(root: Path) -> None:
    """Every folder of ``root`` as if last changed an hour ago (older than the walk's distrust of recent times)."""
    for folder, _, _ in os.walk(root):
        status = os.stat(folder)
        os.utime(folder, ns=(status.st_atime_ns, status.st_mtime_ns - HOUR_NS))


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The roots the index walks (lists folder by folder)."""
    seen: list[str] = []
    real = listing.walk

    def counting(root: str, explicit: bool, version: str) -> listing.Listing:
        seen.append(os.path.basename(root))
        return real(root, explicit, version)

    monkeypatch.setattr(listing, "walk", counting)
    return seen


@pytest.fixture
def settled_shop(shop: Path, parses: list[str], walks: list[str]) -> Path:
    index.build_index(str(shop), None)  # makes the cache folder in the root
    settle(shop)
    index.build_index(str(shop), None)  # walks again: the root's time changed
    assert walks == ["shop", "shop"] and len(parses) == 13
    walks.clear()
    parses.clear()
    return shop


def touch_later(path: Path) -> None:
    """Move ``path``'s modification time a second on (an edit that keeps the size keeps nothing else)."""
    status = path.stat()
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))


def test_an_unchanged_project_is_neither_walked_nor_read(
    settled_shop: Path, parses: list[str], walks: list[str]
) -> None:
    again = index.build_index(str(settled_shop), None)
    assert (walks, parses) == ([], [])
    assert [source.module for source in again.listing.files] == [
        source.module for source in project_files(str(settled_shop))
    ]


def test_an_edited_file_is_read_again_without_a_walk(settled_shop: Path, parses: list[str], walks: list[str]) -> None:
    models = settled_shop / "src" / "shop" / "models.py"
    models.write_text(models.read_text().replace("class Tag(", "class Label(models.Model):\n    pass\n\n\nclass Tag("))
    touch_later(models)
    knowledge = index.build_index(str(settled_shop), None).knowledge
    assert (walks, parses) == ([], ["models.py"])
    assert knowledge.is_model("shop.models.Label")


def test_an_edit_that_keeps_the_size_is_seen_by_its_time(
    settled_shop: Path, parses: list[str], walks: list[str]
) -> None:
    tasks = settled_shop / "src" / "shop" / "tasks.py"
    text = tasks.read_text()
    tasks.write_text(text.replace("def nightly(", "def nightlz("))
    assert len(tasks.read_text()) == len(text)
    touch_later(tasks)
    knowledge = index.build_index(str(settled_shop), None).knowledge
    assert (walks, parses) == ([], ["tasks.py"])
    assert knowledge.task("shop.tasks.nightlz") is not None
    assert knowledge.task("shop.tasks.nightly") is None


def test_an_added_file_is_found_by_its_folder_time(settled_shop: Path, parses: list[str], walks: list[str]) -> None:
    extra = "from celery import shared_task\n\n@shared_task\ndef later():\n    pass\n"
    write_project(settled_shop, {"src/shop/extra.py": extra})
    knowledge = index.build_index(str(settled_shop), None).knowledge
    assert (walks, parses) == (["shop"], ["extra.py"])
    assert knowledge.task("shop.extra.later") is not None


def test_a_removed_file_is_gone(settled_shop: Path, parses: list[str], walks: list[str]) -> None:
    assert index.build_index(str(settled_shop), None).knowledge.task("shop.tasks.send_receipt") is not None
    (settled_shop / "src" / "shop" / "tasks.py").unlink()
    knowledge = index.build_index(str(settled_shop), None).knowledge
    assert (walks, parses) == (["shop"], [])
    assert knowledge.task("shop.tasks.send_receipt") is None
    assert "shop.tasks" not in knowledge.modules


def test_a_renamed_file_is_read_under_its_new_name(settled_shop: Path, parses: list[str], walks: list[str]) -> None:
    folder = settled_shop / "src" / "shop"
    (folder / "tasks.py").rename(folder / "jobs.py")
    knowledge = index.build_index(str(settled_shop), None).knowledge
    assert (walks, parses) == (["shop"], ["jobs.py"])
    assert knowledge.task("shop.jobs.send_receipt") is not None
    assert "shop.jobs" in knowledge.modules and "shop.tasks" not in knowledge.modules


def test_a_folder_that_becomes_a_package_is_read(settled_shop: Path, parses: list[str], walks: list[str]) -> None:
    # static/ inside the package was looked into for an __init__.py and not walked: its own time says it changed
    write_project(settled_shop, {"src/shop/static/__init__.py": "", "src/shop/static/tasks.py": "X = 1\n"})
    knowledge = index.build_index(str(settled_shop), None).knowledge
    assert walks == ["shop"] and sorted(parses) == ["__init__.py", "tasks.py"]
    assert "shop.static.tasks" in knowledge.modules


def test_a_folder_changed_just_before_the_walk_is_listed_again(shop: Path, walks: list[str]) -> None:
    index.build_index(str(shop), None)  # the fixture's folders were all written a moment ago
    index.build_index(str(shop), None)
    assert walks == ["shop", "shop"]
    stored = FactsCache(str(shop / ".cdj_cache"), str(shop)).load_listing()
    assert stored is not None and {stamp for _, stamp in stored.folders} == {listing.UNTRUSTED}


def test_a_crafted_listing_is_not_followed_outside_the_root(settled_shop: Path, tmp_path: Path) -> None:
    cache = FactsCache(str(settled_shop / ".cdj_cache"), str(settled_shop))
    data = json.loads(Path(cache.listing_path).read_text())
    outside = tmp_path / "outside"
    write_project(outside, {"evil.py": "from celery import shared_task\n\n@shared_task\ndef evil():\n    pass\n"})
    for folder in (str(outside), str(settled_shop) + "/../outside", str(settled_shop) + "/src/../../outside"):
        data["listing"]["files"] = [[folder, [["evil.py", "evil", False, 1, 1]]]]
        Path(cache.listing_path).write_text(json.dumps(data))
        assert cache.load_listing() is None
    assert index.build_index(str(settled_shop), None).knowledge.task("evil.evil") is None


# -- a long-lived process (an editor integration) sees the disk again -----------------------------
def test_a_kept_index_is_checked_again_after_its_interval(settled_shop: Path, walks: list[str]) -> None:
    kept = index.project_index(str(settled_shop), None, True)
    extra = "from celery import shared_task\n\n@shared_task\ndef later():\n    pass\n"
    write_project(settled_shop, {"src/shop/extra.py": extra})
    # within the interval, the index is the one built (a run that listed its files first sees the same)
    assert index.project_index(str(settled_shop), None, True) is kept
    assert kept.next_check > 0 and kept.knowledge.task("shop.extra.later") is None
    settle(settled_shop)  # (a folder changed a moment ago is listed again at every check)
    kept.next_check = 0.0
    found = index.project_index(str(settled_shop), None, True)
    assert found is not kept and found.knowledge.task("shop.extra.later") is not None
    # nothing changed since: the same index is kept, and its next check is at least the interval away
    found.next_check = 0.0
    assert index.project_index(str(settled_shop), None, True) is found
    assert found.next_check >= time.monotonic() + index.RECHECK_SECONDS - 0.5
    assert walks == ["shop"]


def test_the_cache_format_changes_with_the_code_of_the_index(tmp_path: Path) -> None:
    from flake8_celery_django.project import cache

    package = Path(cache.__file__).parent
    copy = tmp_path / "project"
    copy.mkdir()
    for module in package.glob("*.py"):
        (copy / module.name).write_bytes(module.read_bytes())
    assert cache.extraction_digest(str(copy)) in cache.FORMAT
    facts = copy / "facts.py"
    facts.write_bytes(facts.read_bytes() + b"# another field\n")
    assert cache.extraction_digest(str(copy)) not in cache.FORMAT
