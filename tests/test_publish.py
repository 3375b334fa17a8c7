"""Publishing: the Pages workflow, the book configuration, the licence and the citation file."""
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _workflow():
    data = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text(encoding="utf-8"))
    return data, data.get("on", data.get(True))  # YAML 1.1 reads the key `on` as True


def _build_command_of_ci():
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    builds = [ln for ln in lines if ln.startswith("jupyter-book build")]
    assert len(builds) == 1, builds
    return builds[0]


def _run_lines(job):
    return [step["run"].strip() for step in job["steps"] if "run" in step]


def test_workflow_builds_like_ci_and_deploys_on_push_to_main():
    wf, on = _workflow()
    assert on["push"]["branches"] == ["main"] and "pull_request" in on
    jobs = wf["jobs"]
    build, deploy = jobs["build"], jobs["deploy"]
    assert _build_command_of_ci() in _run_lines(build)            # the very command .ci/run uses
    assert "-W" in _build_command_of_ci().split() and "-n" in _build_command_of_ci().split()
    install = [r for r in _run_lines(build) if "pip install" in r]
    assert install and "requirements.txt" in install[0]
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"
    assert build["if"] == "github.event_name != 'pull_request'"
    assert deploy["needs"] == "build"
    assert "refs/heads/main" in deploy["if"] and "push" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])
    assert deploy["environment"]["name"] == "github-pages"


def test_workflow_runs_ci_on_pull_requests():
    wf, _ = _workflow()
    ci = wf["jobs"]["ci"]
    assert ci["if"] == "github.event_name == 'pull_request'"
    assert "bash .ci/run" in _run_lines(ci)
    assert wf["permissions"] == {"contents": "read"}  # only the deploy job may write to Pages


def test_book_configuration():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    sphinx = config["sphinx"]
    assert sphinx["config"]["nb_merge_streams"] is True
    assert sphinx["config"]["bibtex_reference_style"] == "author_year"
    assert sphinx["config"]["bibtex_default_style"] == "authoryear"
    assert "sphinxcontrib.lightbox2" in sphinx["extra_extensions"]
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^sphinxcontrib-lightbox2\b", requirements, re.M)
    assert (ROOT / sphinx["local_extensions"]["authoryear_bib"] / "authoryear_bib.py").is_file()
    assert config["execute"]["execute_notebooks"] == "off"


def test_every_chapter_is_numbered_in_the_toc():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    chapters = toc["parts"][0]
    assert chapters["numbered"]
    files = [c["file"] for c in chapters["chapters"]]
    assert files == sorted(files) and len(files) == 11
    for f in files:
        page = next(p for p in (ROOT / f"{f}.ipynb", ROOT / f"{f}.md") if p.exists())
        text = page.read_text(encoding="utf-8")
        if page.suffix == ".ipynb":
            text = "".join(json.loads(text)["cells"][0]["source"])
        title = re.search(r"^# (.+)$", text, re.M).group(1)
        assert not re.match(r"\d+\.", title), f"{f}: the toc numbers chapters, the title must not ({title!r})"


def test_bibliography_labels_are_author_year():
    from pybtex.database import parse_file

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import authoryear_bib
    finally:
        sys.path.pop(0)
    entries = list(authoryear_bib.AuthorYearStyle().format_bibliography(parse_file(ROOT / "book" / "references.bib")))
    labels = {e.key: e.label for e in entries}
    assert labels["zeiler2014visualizing"] == "Zeiler and Fergus, 2014"
    assert labels["krizhevsky2012imagenet"] == "Krizhevsky et al., 2012"
    assert all(re.fullmatch(r"[^,]+, \d{4}[a-z]?", label) for label in labels.values()), labels
    assert len(set(labels.values())) == len(labels)


def test_licence_and_citation():
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "CC BY 4.0" in licence
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["title"] and cff["authors"]
    assert set(cff["license"]) == {"MIT", "CC-BY-4.0"}
    paper = cff["references"][0]
    assert [a["family-names"] for a in paper["authors"]] == ["Zeiler", "Fergus"] and paper["year"] == 2014


def test_readme_says_where_the_book_is_and_how_a_fork_publishes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["url"] in readme
    assert "Settings → Pages" in readme and "GitHub Actions" in readme
