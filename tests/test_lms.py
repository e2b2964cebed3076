"""A class at once: the folders and zips Canvas, Moodle and Gradescope export, read into one submission each."""

from __future__ import annotations

import logging
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, TEST_SECRET

from grader.batch import grade_all
from grader.errors import UsageError
from grader.gradescope_metadata import read_submitters
from grader.intake import Found, discover, unique_ids
from grader.submission import StagingError, stage

MODULE = "def f():\n    return 1\n"
EXAMPLES = ROOT / "examples" / "optimizers"

GRADESCOPE_METADATA = """\
submission_1001:
  :submitters:
  - :name: Ada Lovelace
    :sid: '100'
    :email: ada@example.edu
  :created_at: 2024-03-01 21:32:45.371213000 -08:00
  :score: 10.0
  :history:
  - :submitters:
    - :name: Someone Else
submission_1002:
  :submitters:
  - :name: "Grace Hopper"
    :sid: '200'
  - :sid: '201'
    :email: 'o''neil@example.edu'
"""


def write(path: Path, text: str = MODULE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def zip_folder(folder: Path, archive: Path, extra: dict[str, str] | None = None) -> Path:
    """``folder``'s files zipped with paths relative to it, plus ``extra`` members written as they are."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w") as z:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                z.write(file, file.relative_to(folder).as_posix())
        for name, text in (extra or {}).items():
            z.writestr(name, text)
    return archive


def found(paths: list[Path], workdir: Path) -> dict[str, Path]:
    results = discover(paths, "optimizers", workdir)
    assert all(isinstance(r, Found) for r in results)
    return {r.submission: r.path for r in results}


def canvas_class(folder: Path) -> Path:
    write(folder / "doealice_12345_67890_optimizers.py")
    write(folder / "smithbob_LATE_23456_78901_optimizers-1.py", "def f():\n    return 2\n")
    write(folder / "leecarol_34567_11111_optimizers.py", "from helpers import g\ndef f():\n    return g()\n")
    write(folder / "leecarol_34567_11112_helpers.py", "def g():\n    return 3\n")
    write(folder / "leecarol_34567_11113_screenshot.png", "not code")
    write(folder / ".DS_Store", "junk")
    write(folder / "__MACOSX" / "._doealice_12345_67890_optimizers.py", "junk")
    return folder


# --------------------------------------------------------------------------- one student's work, as today


def test_a_file_a_folder_and_a_zip_of_one_student_are_one_submission_each(tmp_path):
    single = write(tmp_path / "ann.py")
    top = write(tmp_path / "ben" / "optimizers.py").parent
    write(top / "helpers.py")
    nested = write(tmp_path / "dana" / "src" / "optimizers.py").parent.parent
    write(nested / "run_me.py")  # a script beside the folder with the module: still dana's work
    archive = zip_folder(write(tmp_path / "eve_src" / "eve" / "optimizers.py").parent.parent, tmp_path / "eve.zip",
                         {"__MACOSX/eve/._optimizers.py": "junk"})
    workdir = tmp_path / "work"
    assert found([single, top, nested, archive], workdir) == {"ann": single, "ben": top, "dana": nested, "eve": archive}
    assert not workdir.exists()  # nothing unpacked: a student's zip is stage()'s to open


def test_the_same_name_twice_gets_a_suffix_as_batch_did(tmp_path):
    first, second = write(tmp_path / "a" / "alice.py"), write(tmp_path / "b" / "alice.py")
    assert found([first, second, first], tmp_path / "work") == {"alice": first, "alice-2": second, "alice-3": first}


def test_unique_ids_keeps_the_first_and_suffixes_the_rest_even_past_a_taken_suffix():
    assert unique_ids(["a", "b", "a", "a"]) == ["a", "b", "a-2", "a-3"]
    assert unique_ids(["a", "a", "a-2", "b"]) == ["a", "a-2", "a-2-2", "b"]


# --------------------------------------------------------------------------- LMS exports


def test_a_canvas_folder_gives_lastfirst_ids_and_gathers_a_students_files(tmp_path, caplog):
    folder = canvas_class(tmp_path / "canvas")
    with caplog.at_level(logging.INFO, logger="grader.intake"):
        ids = found([folder], tmp_path / "work")
    assert set(ids) == {"doealice", "smithbob", "leecarol"}
    assert ids["doealice"] == folder / "doealice_12345_67890_optimizers.py"
    assert ids["smithbob"] == folder / "smithbob_LATE_23456_78901_optimizers-1.py"
    carol = ids["leecarol"]  # two .py files: gathered under the names she gave them
    assert carol.is_dir() and carol.is_relative_to(tmp_path / "work")
    assert sorted(p.name for p in carol.iterdir()) == ["helpers.py", "optimizers.py"]
    staged = stage(carol, "optimizers", tmp_path / "staged")
    assert sorted(p.name for p in staged.workdir.iterdir()) == ["helpers.py", "optimizers.py"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "leecarol_34567_11113_screenshot.png" in warnings[0]
    assert ".DS_Store" not in warnings[0] and "__MACOSX" not in warnings[0]
    assert any("Canvas" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)


def test_a_canvas_re_upload_named_module_dash_1_is_staged_as_the_module(tmp_path):
    folder = tmp_path / "canvas"
    write(folder / "doealice_12345_1_optimizers-1.py", "def f():\n    return 5\n")
    write(folder / "doealice_12345_2_utils.py", "X = 1\n")
    write(folder / "roebob_23456_3_optimizers.py")
    alice = found([folder], tmp_path / "work")["doealice"]
    assert (alice / "optimizers.py").read_text() == "def f():\n    return 5\n"


def test_a_moodle_folder_gives_full_name_ids(tmp_path, caplog):
    folder = tmp_path / "moodle"
    ada = write(folder / "Ada Lovelace_12345_assignsubmission_file_" / "optimizers.py").parent
    write(ada / "notes.pdf", "not code")
    bob = folder / "Bob O'Stone_23456_assignsubmission_file_"
    zip_folder(write(tmp_path / "bobs" / "optimizers.py").parent, bob / "hw3.zip")
    write(folder / "Bob O'Stone_23456_assignsubmission_onlinetext_" / "onlinetext.html", "<p>hi</p>")
    carl = write(folder / "Carl_34567_assignsubmission_file_" / "deep" / "optimizers.py").parent.parent
    twin = write(folder / "Ada Lovelace_45678_assignsubmission_file_" / "optimizers.py").parent
    with caplog.at_level(logging.WARNING, logger="grader.intake"):
        ids = found([folder], tmp_path / "work")
    assert ids == {"Ada_Lovelace": ada, "Ada_Lovelace-2": twin, "Bob_O_Stone": bob, "Carl": carl}
    staged = stage(bob, "optimizers", tmp_path / "bob")  # his folder's only file is a zip: it is opened
    assert staged.module_file.read_text() == MODULE
    assert "onlinetext" in caplog.text  # Bob's online text is not graded, and the TA is told


def test_one_moodle_student_is_still_a_class(tmp_path):
    folder = tmp_path / "export"
    write(folder / "Ada Lovelace_12345_assignsubmission_file_" / "optimizers.py")
    assert list(found([folder], tmp_path / "work")) == ["Ada_Lovelace"]


def test_gradescope_ids_come_from_the_metadata_else_the_folder(tmp_path):
    export = tmp_path / "assignment_42_export"  # the folder Gradescope's zip holds
    write(export / "submission_metadata.yml", GRADESCOPE_METADATA)
    write(export / "submission_1001" / "optimizers.py")
    write(export / "submission_1002" / "src" / "optimizers.py")
    write(export / "submission_1003" / "optimizers.py")  # not in the metadata
    ids = found([tmp_path], tmp_path / "work")  # the wrapper folder is looked into
    assert ids == {"Ada_Lovelace": export / "submission_1001", "Grace_Hopper-o_neil_example.edu": export / "submission_1002",
                   "submission_1003": export / "submission_1003"}


def test_the_metadata_reader_agrees_with_a_yaml_parser():
    yaml = pytest.importorskip("yaml")
    ours = read_submitters(GRADESCOPE_METADATA)
    theirs = {key: [{k.lstrip(":"): v for k, v in person.items()} for person in value[":submitters"]]
              for key, value in yaml.safe_load(GRADESCOPE_METADATA).items()}
    assert ours == theirs
    assert ours["submission_1002"][1] == {"sid": "201", "email": "o'neil@example.edu"}


def test_a_folder_of_files_named_by_student(tmp_path, caplog):
    folder = tmp_path / "class"
    alice = write(folder / "alice.py")
    bob = zip_folder(write(tmp_path / "b" / "optimizers.py").parent, folder / "bob.zip")
    notebook = write(folder / "carol.ipynb", "{}")
    write(folder / "grading-notes.txt", "not a submission")
    with caplog.at_level(logging.WARNING, logger="grader.intake"):
        assert found([folder], tmp_path / "work") == {"alice": alice, "bob": bob, "carol": notebook}
    assert "grading-notes.txt" in caplog.text
    with pytest.raises(StagingError, match="notebook"):
        stage(notebook, "optimizers", tmp_path / "staged")


def test_a_folder_of_student_folders_each_with_the_module(tmp_path):
    folder = tmp_path / "class"
    alice = write(folder / "alice" / "optimizers.py").parent
    bob = write(folder / "bob" / "hw" / "optimizers.py").parent.parent
    assert found([folder], tmp_path / "work") == {"alice": alice, "bob": bob}


# --------------------------------------------------------------------------- class zips


def test_a_canvas_zip_is_unpacked_into_the_workdir_and_reads_like_the_folder(tmp_path, caplog):
    outside = tmp_path / "outside.py"  # an absolute member, kept inside tmp_path should the guard fail
    archive = zip_folder(canvas_class(tmp_path / "canvas"), tmp_path / "submissions.zip",
                         {"../../../escape.py": "never written", str(outside): "never written"})
    workdir = tmp_path / "work"
    with caplog.at_level(logging.WARNING, logger="grader.intake"):
        ids = found([archive], workdir)
    assert f"{archive}: skipped 1 entry" in caplog.text  # named by the zip the TA gave, not where it was unpacked
    assert set(ids) == {"doealice", "smithbob", "leecarol"}
    assert all(path.is_relative_to(workdir) and path.exists() for path in ids.values())
    assert ids["doealice"].read_text() == MODULE
    assert not outside.exists() and not list(tmp_path.rglob("escape.py"))
    assert not list(workdir.rglob("__MACOSX")) and not list(workdir.rglob(".DS_Store"))

    stale = write(ids["doealice"].parent / "stale.py")  # a second call replaces what the first unpacked
    assert found([archive], workdir) == ids
    assert not stale.exists()


def test_a_gradescope_zip_with_its_export_folder(tmp_path):
    export = tmp_path / "src" / "assignment_42_export"
    write(export / "submission_metadata.yml", GRADESCOPE_METADATA)
    write(export / "submission_1001" / "optimizers.py")
    archive = zip_folder(tmp_path / "src", tmp_path / "export.zip")
    ids = found([archive], tmp_path / "work")
    assert list(ids) == ["Ada_Lovelace"] and (ids["Ada_Lovelace"] / "optimizers.py").read_text() == MODULE


def test_a_zip_of_student_zips_is_a_class_and_a_zip_with_the_module_is_not(tmp_path):
    inner = tmp_path / "inner"
    zip_folder(write(tmp_path / "a" / "optimizers.py").parent, inner / "alice.zip")
    zip_folder(write(tmp_path / "b" / "optimizers.py").parent, inner / "bob.zip")
    ids = found([zip_folder(inner, tmp_path / "class.zip")], tmp_path / "work")
    assert sorted(ids) == ["alice", "bob"] and all(zipfile.is_zipfile(p) for p in ids.values())
    student = zip_folder(tmp_path / "a", tmp_path / "ann.zip", {"helpers/x.py": "X = 1\n"})
    assert found([student], tmp_path / "work") == {"ann": student}


# --------------------------------------------------------------------------- ill-formed input is one student's


@pytest.mark.parametrize("shape, message", [
    ("corrupt zip", "the zip export.zip is not a readable zip file"),
    ("empty folder", "the folder export is empty"),
    ("only hidden files", "the folder export holds only hidden files"),
    ("only pdfs", "the folder export holds 1 file (1 .pdf); none is optimizers.py"),
    ("zip of pdfs", "the zip export.zip holds 1 file (1 .pdf); none is optimizers.py"),
])
def test_ill_formed_input_is_one_students_work_whose_staging_says_what_it_holds(tmp_path, shape, message):
    """Not the caller's mistake any more: a batch must not stop for one upload (tests/test_bad_uploads.py)."""
    path = tmp_path / "export"
    if shape == "corrupt zip":
        path = tmp_path / "export.zip"
        path.write_bytes(b"PK\x03\x04 not really a zip")
    elif shape == "empty folder":
        path.mkdir()
    elif shape == "only hidden files":
        write(path / ".DS_Store", "junk")
        write(path / "__MACOSX" / "._x.py", "junk")
    elif shape == "only pdfs":
        write(path / "alice.pdf", "%PDF")
    elif shape == "zip of pdfs":
        path = zip_folder(write(tmp_path / "pdfs" / "alice.pdf", "%PDF").parent, tmp_path / "export.zip")
    assert discover([path], "optimizers", tmp_path / "work") == [Found("export", path)]
    with pytest.raises(StagingError, match=re.escape(message)):
        stage(path, "optimizers", tmp_path / "staged")


def test_a_path_that_does_not_exist_is_the_callers_mistake(tmp_path):
    with pytest.raises(UsageError, match="no such file or folder"):
        discover([tmp_path / "missing"], "optimizers", tmp_path / "work")


# --------------------------------------------------------------------------- end to end


def test_grade_all_grades_a_canvas_folder_under_the_students_ids(tmp_path, monkeypatch):
    """One path, two students: reports under their Canvas ids; the same class as a zip is unchanged."""
    monkeypatch.setenv("GRADER_SECRET", TEST_SECRET.decode())
    folder = tmp_path / "canvas"
    folder.mkdir()
    shutil.copyfile(EXAMPLES / "alice.py", folder / "liddellalice_1001_5001_optimizers.py")
    shutil.copyfile(EXAMPLES / "frank.py", folder / "castlefrank_LATE_1002_5002_optimizers-1.py")
    out = tmp_path / "grades"
    result = grade_all(assignment="optimizers", submissions=[folder], out=out, course=str(ROOT), workers=1)
    assert {r.submission: r.score for r in result.reports} == {"liddellalice": 100.0, "castlefrank": 0.0}
    assert (out / "liddellalice" / "report.json").is_file() and (out / "castlefrank" / "report.json").is_file()

    again = grade_all(assignment="optimizers", submissions=[zip_folder(folder, tmp_path / "canvas.zip")], out=out,
                      course=str(ROOT), workers=1)
    assert (again.graded, again.skipped) == (0, 2)
