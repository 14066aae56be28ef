"""The project index's extraction survives every valid module: generated programs, deep nesting, a large file."""

from __future__ import annotations

import ast

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, given, settings

from flake8_celery_django.api import parse_quietly
from flake8_celery_django.project.extract import extract
from flake8_celery_django.project.facts import ModuleFacts
from flake8_celery_django.project.merge import merge
from tests import programs

PACKAGES = frozenset({"shop", "generated"})


def extract_and_merge(tree: ast.Module) -> ModuleFacts:
    facts = extract(tree, "generated.module", False, PACKAGES)
    merge([facts])
    return facts


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_generated_programs(source: str) -> None:
    tree = parse_quietly(source)
    assume(tree is not None)
    assert tree is not None
    extract_and_merge(tree)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_generated_syntax_trees(source: str) -> None:
    tree = parse_quietly(source)
    assume(tree is not None)
    assert tree is not None
    extract_and_merge(tree)


@pytest.mark.parametrize("name", sorted(programs.DEEP_EXPRESSIONS))
def test_expressions_nested_1000_levels(name: str) -> None:
    for source in (programs.DEEP_EXPRESSIONS[name], programs.in_task_loop(programs.DEEP_EXPRESSIONS[name])):
        tree = parse_quietly(source)
        assert tree is not None
        assert extract_and_merge(tree).module == "generated.module"


@pytest.mark.parametrize("kind", programs.DEEP_BLOCK_KINDS)
def test_blocks_nested_1000_levels(kind: str) -> None:
    assert extract_and_merge(programs.deep_block_module(kind)).module == "generated.module"


def test_a_50k_line_file_yields_its_tasks_and_receivers() -> None:
    tree = parse_quietly(programs.large_module(50_000))
    assert tree is not None
    facts = extract_and_merge(tree)
    assert len(facts.tasks) == programs.large_module(50_000).count("@shared_task")
    assert len(facts.receivers) == programs.large_module(50_000).count("@receiver(")
