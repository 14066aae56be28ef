"""The real-world scorecard: every registered rule over the open corpus, in process.

    python benchmarks/scorecard.py [--corpus DIR] [--labels FILE] [--markdown] [--list] [--no-project-index]

What it does:

- reads every ``.py`` file of ``DIR/open/`` (the pinned wheels of ``../shared/corpus/fetch.sh``;
  default ``.corpus/``, fetched with that script when missing) the way flake8 reads it (encoding
  cookie or BOM, else UTF-8, else latin-1), parses it once and runs the plugin on the tree with
  every registered rule enabled and ``strict=True``, so that an internal error is raised: any file
  that makes the plugin raise is listed with its traceback and the script exits with status 1;
- treats each unpacked application as its own project (its folder is the project index's root;
  ``--no-project-index`` judges every file on its own);
- drops findings silenced by ``# noqa`` on their line, as flake8 would;
- prints, per rule, the number of findings and the files and projects they are in;
- for the hand-read sites of ``labels-open.tsv``, prints per label family how many ``TP`` sites
  are found and how many ``TN`` sites are wrongly flagged. A site counts as flagged when the file
  has a finding of the same family (``1``/``1-ann`` -> CDJ1, ``2`` -> CDJ2, ``3`` -> CDJ3,
  ``4-write``/``4-query`` -> CDJ4, ``5a``/``5b``/``5c`` -> CDJ5) within two lines of it.

The labels of two applications that publish no wheel (taiga-back, paperless-ngx) are scored when
their labelled commits are extracted into ``DIR/github/<name>-<first 12 digits of the commit>/``
(``git --git-dir=<fetched> archive <commit> | tar -x -C ...``, as ``../shared/corpus/README.md``
says); their findings count for the labels only, not in the per-rule numbers.

``tox -e corpus`` runs it; ``--markdown`` prints the tables in the form ``docs/real-world.md``
keeps, ``--list`` also lists every finding (``path:line:col: CODE message``).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import subprocess
import sys
import time
import tokenize
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flake8_celery_django.api import check_tree, parse_quietly  # noqa: E402
from flake8_celery_django.context import Finding  # noqa: E402
from flake8_celery_django.registry import RULES  # noqa: E402
from flake8_celery_django.settings import Settings  # noqa: E402

LABEL_FAMILIES = {
    "1": "CDJ1",
    "1-ann": "CDJ1",
    "2": "CDJ2",
    "3": "CDJ3",
    "4-write": "CDJ4",
    "4-query": "CDJ4",
    "5a": "CDJ5",
    "5b": "CDJ5",
    "5c": "CDJ5",
}
NEARBY_LINES = 2
# Findings in ``DIR/github/`` are keyed with this prefix; they count for the labels only.
GITHUB_PREFIX = "github/"
# flake8's own pattern (flake8.defaults.NOQA_INLINE_REGEX), copied so that its version does not matter
NOQA = re.compile(
    r"# noqa(?::[\s]?(?P<codes>([A-Z][0-9]+(?:[,\s]+)?)+))?",
    re.IGNORECASE,
)
NOQA_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def shared_directory() -> Path | None:
    """``shared/`` beside the repository (or beside the directory that holds a worktree)."""
    for candidate in (ROOT.parent / "shared", ROOT.parent.parent / "shared"):
        if (candidate / "corpus").is_dir():
            return candidate
    return None


def ensure_corpus(corpus: Path) -> Path:
    """``corpus/open``, fetched with the shared ``fetch.sh`` when it is not there yet."""
    open_set = corpus / "open"
    if open_set.is_dir() and any(open_set.iterdir()):
        return open_set
    shared = shared_directory()
    if shared is None:
        raise SystemExit(f"scorecard: {open_set} is missing and ../shared/corpus/fetch.sh was not found")
    print(f"fetching the corpus into {corpus} ...", file=sys.stderr)
    subprocess.run(["bash", str(shared / "corpus" / "fetch.sh"), str(corpus)], check=True)
    return open_set


def read_source(path: Path) -> str:
    """The text of a file as flake8 reads it: encoding cookie or BOM, else UTF-8, else latin-1."""
    data = path.read_bytes()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (LookupError, SyntaxError, UnicodeError):
        return data.decode("latin-1")


def silenced(finding: Finding, lines: Sequence[str]) -> bool:
    """``# noqa`` or ``# noqa: CODES`` on the finding's line, read as flake8 reads it."""
    if not 0 < finding.line <= len(lines):
        return False
    match = NOQA.search(lines[finding.line - 1])
    if match is None:
        return False
    codes = match.group("codes")
    if not codes:
        return True
    return any(finding.code.startswith(code.upper()) for code in NOQA_CODE.findall(codes))


@dataclass
class Label:
    project: str
    version: str
    path: str
    line: int
    family: str
    verdict: str
    note: str

    @property
    def prefix(self) -> str:
        return LABEL_FAMILIES.get(self.family, "?")

    @property
    def key(self) -> str:
        """``<project>-<version>/<path>`` in ``open/``; for a label of an application taken from
        GitHub (``github:OWNER/NAME@COMMIT``), ``<project>-<first 12 digits of COMMIT>/<path>`` in
        ``github/``."""
        if self.version.startswith("github:"):
            return f"{GITHUB_PREFIX}{self.project}-{self.version.rpartition('@')[2][:12]}/{self.path}"
        return f"{self.project}-{self.version}/{self.path}"


def read_labels(path: Path) -> list[Label]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        Label(
            row["project"],
            row["version_or_commit"],
            row["path"],
            int(row["line"]),
            row["family"],
            row["verdict"],
            row.get("note") or "",
        )
        for row in rows
    ]


@dataclass
class Scan:
    files: int = 0
    lines: int = 0
    unparsable: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    silenced: int = 0
    seconds: float = 0.0
    # findings per file, keyed by "<project>-<version>/<path>"
    findings: dict[str, list[Finding]] = field(default_factory=dict)


def python_files(open_set: Path) -> Iterator[Path]:
    yield from sorted(open_set.rglob("*.py"))


def scan(open_set: Path, project_index: bool = True) -> Scan:
    result = Scan()
    # Each unpacked application is its own project (the corpus folder sits inside this repository,
    # whose own markers would otherwise make it the root).
    per_project: dict[str, Settings] = {}
    started = time.perf_counter()
    for path in python_files(open_set):
        key = path.relative_to(open_set).as_posix()
        project = key.partition("/")[0]
        settings = per_project.get(project)
        if settings is None:
            settings = per_project[project] = Settings(
                enabled=frozenset(RULES), project_index=project_index, project_root=str(open_set / project)
            )
        source = read_source(path)
        result.files += 1
        result.lines += source.count("\n")
        tree = parse_quietly(source, str(path))
        if tree is None:
            result.unparsable.append(key)
            continue
        try:
            findings = check_tree(tree, str(path), settings, strict=True)
        except Exception:  # noqa: BLE001  (every failing file is listed, then the run fails)
            result.crashes.append(f"{key}:\n{traceback.format_exc(limit=-8)}")
            continue
        if findings:
            lines = source.splitlines()
            kept = [finding for finding in findings if not silenced(finding, lines)]
            result.silenced += len(findings) - len(kept)
            if kept:
                result.findings[key] = kept
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class FamilyScore:
    tp: int = 0
    tp_found: int = 0
    tn: int = 0
    tn_flagged: int = 0
    missed: list[Label] = field(default_factory=list)
    flagged: list[tuple[Label, list[Finding]]] = field(default_factory=list)


def score_labels(labels: Sequence[Label], result: Scan) -> dict[str, FamilyScore]:
    scores: dict[str, FamilyScore] = defaultdict(FamilyScore)
    for label in labels:
        score = scores[label.family]
        nearby = [
            finding
            for finding in result.findings.get(label.key, ())
            if finding.code.startswith(label.prefix) and abs(finding.line - label.line) <= NEARBY_LINES
        ]
        if label.verdict == "TP":
            score.tp += 1
            if nearby:
                score.tp_found += 1
            else:
                score.missed.append(label)
        elif label.verdict == "TN":
            score.tn += 1
            if nearby:
                score.tn_flagged += 1
                score.flagged.append((label, nearby))
    return dict(scores)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], markdown: bool) -> str:
    cells = [[str(cell) for cell in row] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [max([len(header), *(len(row[i]) for row in cells)]) for i, header in enumerate(headers)]
    lines = ["  ".join(header.ljust(width) for header, width in zip(headers, widths))]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def report(result: Scan, scores: dict[str, FamilyScore], markdown: bool, listing: bool) -> str:
    out: list[str] = []
    projects = {key.split("/", 1)[0] for key in result.findings}
    out.append(
        f"{result.files:,} files, {result.lines:,} lines in {result.seconds:.1f} s; "
        f"{len(result.unparsable)} files do not parse with Python {sys.version_info[0]}.{sys.version_info[1]}; "
        f"{result.silenced} findings silenced by # noqa; {len(projects)} projects with findings"
    )
    per_code: Counter[str] = Counter()
    files_per_code: dict[str, set[str]] = defaultdict(set)
    for key, findings in result.findings.items():
        for finding in findings:
            per_code[finding.code] += 1
            files_per_code[finding.code].add(key)
    rows = []
    for code, rule in sorted(RULES.items()):
        files = files_per_code.get(code, set())
        rows.append(
            (
                code,
                f"`{rule.name}`" if markdown else rule.name,
                "yes" if rule.default_enabled else "no",
                per_code.get(code, 0),
                len(files),
                len({key.split("/", 1)[0] for key in files}),
            )
        )
    out += ["", "Findings per rule", ""]
    out.append(table(("Rule", "Name", "On by default", "Findings", "Files", "Projects"), rows, markdown))

    label_rows = []
    families = sorted(scores, key=lambda family: (LABEL_FAMILIES.get(family, "?"), family))
    for family in families:
        score = scores[family]
        prefix = LABEL_FAMILIES.get(family, "?")
        has_rules = any(code.startswith(prefix) for code in RULES)
        label_rows.append(
            (
                family,
                prefix,
                f"{score.tp_found}/{score.tp}" if has_rules else f"-/{score.tp}",
                f"{score.tn_flagged}/{score.tn}" if has_rules else f"-/{score.tn}",
                "" if has_rules else "no rule registered yet",
            )
        )
    out += ["", "Hand-read sites (labels-open.tsv): a finding of the family within two lines counts", ""]
    out.append(table(("Label family", "Rules", "TP found", "TN wrongly flagged", ""), label_rows, markdown))

    details: list[str] = []
    for family in families:
        prefix = LABEL_FAMILIES.get(family, "?")
        if not any(code.startswith(prefix) for code in RULES):
            continue
        for label in scores[family].missed:
            details.append(f"  missed TP  [{family}] {label.key}:{label.line}  {label.note}")
        for label, nearby in scores[family].flagged:
            codes = ", ".join(sorted({f"{f.code}@{f.line}" for f in nearby}))
            details.append(f"  flagged TN [{family}] {label.key}:{label.line} ({codes})  {label.note}")
    if details:
        out += ["", "Labelled sites to look at", *details]
    if result.unparsable:
        out += ["", "Files that do not parse (flake8 reports E999 and does not run plugins on them)"]
        out += [f"  {key}" for key in result.unparsable]
    if listing:
        out += ["", "All findings"]
        for key in sorted(result.findings):
            out += [f"  {key}:{f.line}:{f.col + 1}: {f.message}" for f in result.findings[key]]
    if result.crashes:
        out += ["", f"INTERNAL ERRORS on {len(result.crashes)} files:"]
        out += result.crashes
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / ".corpus", help="holds open/<project>-<version>/")
    parser.add_argument("--labels", type=Path, default=None, help="default: ../shared/corpus/labels-open.tsv")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--list", action="store_true", help="also list every finding")
    parser.add_argument(
        "--no-project-index", action="store_true", help="judge every file on its own (as with --cdj-no-project-index)"
    )
    options = parser.parse_args(argv)
    open_set = ensure_corpus(options.corpus)
    labels_path = options.labels
    if labels_path is None:
        shared = shared_directory()
        labels_path = shared / "corpus" / "labels-open.tsv" if shared is not None else None
    labels = read_labels(labels_path) if labels_path is not None and labels_path.is_file() else []
    if not labels:
        print("scorecard: no labels-open.tsv found; pass --labels FILE", file=sys.stderr)
    result = scan(open_set, project_index=not options.no_project_index)
    if result.files == 0:
        print(f"scorecard: no Python files under {open_set}", file=sys.stderr)
        return 1
    # The labelled applications taken from GitHub, when extracted into DIR/github/: their findings
    # score their labels, and the per-rule counts stay those of the open corpus.
    github_set = options.corpus / "github"
    labelled = Scan(findings=dict(result.findings))
    if github_set.is_dir():
        extra = scan(github_set, project_index=not options.no_project_index)
        labelled.findings.update((GITHUB_PREFIX + key, found) for key, found in extra.findings.items())
        result.crashes.extend(extra.crashes)
    else:
        print(
            f"scorecard: {github_set} is missing: the labels of taiga-back and paperless-ngx count as missed",
            file=sys.stderr,
        )
    print(report(result, score_labels(labels, labelled), options.markdown, options.list))
    return 1 if result.crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
