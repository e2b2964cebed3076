"""One bad upload never stops a class, and nothing outside a submission is ever read.

Every path that exists gets a report (a zero and a message that says what was found, when there is
nothing to grade); links inside a folder or zip are followed only to places inside it; ids never write
outside the output folder nor over another student's report; two runs never share an output folder.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, TEST_SECRET

from grader.files import Tree
from grader.intake import MAX_ID_BYTES, discover, safe_id, unique_ids
from grader.submission import StagingError, stage

ALICE = (ROOT / "examples" / "optimizers" / "alice.py").read_text()
REFERENCE = ROOT / "reference" / "optimizers.py"
GRADER = [sys.executable, "-m", "grader"]


def run(*args: str, cwd: Path = ROOT, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {**os.environ, "GRADER_SECRET": TEST_SECRET.decode(), "COLUMNS": "200"}
    return subprocess.run([*prefix, *GRADER, "--course", str(ROOT), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def write(path: Path, content: str | bytes = ALICE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def link_member(archive: zipfile.ZipFile, name: str, target: str) -> None:
    """A symbolic link as Info-ZIP stores one: Unix mode S_IFLNK, the target as the member's content."""
    info = zipfile.ZipInfo(name)
    info.create_system, info.external_attr = 3, (stat.S_IFLNK | 0o777) << 16
    archive.writestr(info, target)


def reports(out: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/report.json")}


# --------------------------------------------------------------------------- 1. every submission gets a report


def bad_uploads(folder: Path) -> dict[str, str]:
    """One of each kind of upload with nothing to grade, in ``folder``: id -> words its report must hold."""
    folder.mkdir(parents=True)
    zipfile.ZipFile(folder / "empty.zip", "w").close()
    with zipfile.ZipFile(folder / "texts.zip", "w") as z:
        for n in range(300):
            z.writestr(f"notes/{n}.txt", "words")
    with zipfile.ZipFile(folder / "hidden.zip", "w") as z:
        z.writestr(".DS_Store", "junk")
        z.writestr("__MACOSX/._optimizers.py", "junk")
    with zipfile.ZipFile(folder / "many.zip", "w") as z:
        for name in ("a.py", "b.py", "utils.py"):
            z.writestr(name, "X = 1\n")
    valid = (folder / "texts.zip").read_bytes()
    write(folder / "truncated.zip", valid[: len(valid) // 2])
    write(folder / "garbage.zip", b"PK\x03\x04 and then nothing a zip would hold")
    (folder / "emptyfolder").mkdir()
    write(folder / "pdfs" / "essay.pdf", b"%PDF-1.4")
    write(folder / "latin1.py", 'NAME = "Jos\xe9"\n'.encode("latin-1"))
    write(folder / "utf16.py", "X = 1\n".encode("utf-16"))
    (folder / "directory.py").mkdir()
    os.mkfifo(folder / "pipe.py")
    write(folder / "nul.py", b"X = 1\x00\n")
    return {
        "empty": "the zip empty.zip is empty",
        "texts": "the zip texts.zip holds 300 files (300 .txt); none is optimizers.py, another .py file or a notebook",
        "hidden": "the zip hidden.zip holds only hidden files",
        "many": "holds 3 .py files and notebooks (a.py, b.py, utils.py) and none is named optimizers.py",
        "truncated": "the zip truncated.zip is not a readable zip file",
        "garbage": "the zip garbage.zip is not a readable zip file",
        "emptyfolder": "the folder emptyfolder is empty",
        "pdfs": "the folder pdfs holds 1 file (1 .pdf); none is optimizers.py",
        "latin1": "it is not UTF-8 text: byte 0xe9 at line 1",
        "utf16": "it is not UTF-8 text (it looks like UTF-16)",
        "directory.py": "the folder directory.py is empty",
        "pipe": "pipe.py is a named pipe, not a file or a folder: it was not read",
        "nul": "it holds a NUL byte (line 1), so it is not a text file",
    }


def test_a_class_with_every_kind_of_bad_upload_grades_everyone_and_exits_0(tmp_path):
    """A class folder of one good student and every kind of upload with nothing to grade: exit 0, a report
    and a page for each, a zero and the message that says what was found for each bad one."""
    folder = tmp_path / "class"
    expected = bad_uploads(folder)
    write(folder / "alice.py")
    out = tmp_path / "grades"
    result = run("grade", "optimizers", str(folder), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    graded = reports(out)
    assert set(graded) == {"alice", *expected}
    assert graded["alice"]["score"] == 100
    for sid, words in expected.items():
        assert graded[sid]["score"] == 0, sid
        assert words in graded[sid]["load_error"], (sid, graded[sid]["load_error"])
        assert (out / sid / "report.html").is_file()


def test_each_bad_path_named_on_the_command_line_gets_its_own_report(tmp_path):
    """The same uploads passed one path each (as a TA's `grades/*` does), a PDF and a `.zip` that is no zip
    among them: every path gets a report, the batch exits 0."""
    folder = tmp_path / "uploads"
    expected = bad_uploads(folder)
    (folder / "many.zip").unlink()  # named alone, a zip of three .py files is a class of three (discover's rule 5)
    del expected["many"]
    write(folder / "essay.pdf", b"%PDF-1.4")
    write(folder / ".zip", b"not a zip at all")
    expected |= {"essay": "essay.pdf is not a .py file, a notebook (.ipynb), a .zip or a folder",
                 "zip": "the zip .zip is not a readable zip file"}
    out = tmp_path / "grades"
    result = run("grade", "optimizers", *sorted(str(p) for p in folder.iterdir()), "--out", str(out))
    assert result.returncode == 0, result.stderr
    graded = reports(out)
    assert set(graded) == set(expected)
    for sid, words in expected.items():
        assert graded[sid]["score"] == 0 and words in graded[sid]["load_error"], (sid, graded[sid]["load_error"])


def test_an_unreadable_file_is_that_students_zero(tmp_path):
    """A file the grader may not read (its permissions): the grader runs as root without the capabilities
    that bypass permissions (setpriv), as a TA's own account would."""
    if not shutil.which("setpriv") or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to take away root's right to read any file")
    folder = tmp_path / "class"
    write(folder / "alice.py")
    write(folder / "locked.py").chmod(0)
    write(folder / "shut" / "optimizers.py")
    (folder / "shut").chmod(0)
    out = tmp_path / "grades"
    drop = ("setpriv", "--bounding-set=-dac_override,-dac_read_search",
            "--inh-caps=-dac_override,-dac_read_search", "--")
    result = run("grade", "optimizers", str(folder), "--out", str(out), prefix=drop)
    (folder / "shut").chmod(0o755)
    assert result.returncode == 0, result.stderr
    graded = reports(out)
    assert graded["alice"]["score"] == 100
    assert "locked.py cannot be read (Permission denied)" in graded["locked"]["load_error"]
    assert "the folder shut cannot be read (Permission denied)" in graded["shut"]["load_error"]


def test_in_an_lms_export_a_students_empty_or_corrupt_entry_costs_that_student(tmp_path):
    """A Canvas folder, a Moodle folder and a Gradescope zip, each with one good student and one broken
    entry: the good one scores, the broken one gets a zero with why, and one batch grades all three."""
    canvas = tmp_path / "canvas"
    write(canvas / "doealice_1_11_optimizers.py")
    write(canvas / "roebob_2_22_optimizers.py", b"")
    write(canvas / "leecarol_3_33_hw.zip", b"PK\x03\x04 broken")
    write(canvas / "kimdan_4_44_essay.pdf", b"%PDF")
    moodle = tmp_path / "moodle"
    write(moodle / "Ada Lovelace_5_assignsubmission_file_" / "optimizers.py")
    (moodle / "Bob Stone_6_assignsubmission_file_").mkdir()
    staging = tmp_path / "gradescope"
    write(staging / "submission_1" / "optimizers.py")
    (staging / "submission_2").mkdir()
    zipfile.ZipFile(staging / "submission_2" / "work.zip", "w").close()
    gradescope = tmp_path / "gradescope.zip"
    with zipfile.ZipFile(gradescope, "w") as z:
        for file in sorted(staging.rglob("*")):
            if file.is_file():
                z.write(file, file.relative_to(staging).as_posix())
    out = tmp_path / "grades"
    result = run("grade", "optimizers", str(canvas), str(moodle), str(gradescope), "--out", str(out))
    assert result.returncode == 0, result.stderr
    graded = reports(out)
    scores = {sid: r["score"] for sid, r in graded.items()}
    assert scores == {"doealice": 100, "roebob": 0, "leecarol": 0, "kimdan": 0, "Ada_Lovelace": 100,
                      "Bob_Stone": 0, "submission_1": 100, "submission_2": 0}
    assert "not a readable zip file" in graded["leecarol"]["load_error"]
    assert "kimdan_4_44_essay.pdf is not a .py file" in graded["kimdan"]["load_error"]
    assert "is empty" in graded["Bob_Stone"]["load_error"]
    assert "in work.zip" in graded["submission_2"]["load_error"] and "is empty" in graded["submission_2"]["load_error"]
    assert graded["roebob"]["checks"][0]["status"] == "error"  # an empty module has no functions


@pytest.mark.parametrize("args, words", [
    (["grade", "optimizers", "no/such/path"], "no such file or folder: no/such/path"),
    (["grade", "optimisers", "examples/optimizers/alice.py"], "unknown assignment 'optimisers'"),
    (["grade", "optimizers", "examples/optimizers/alice.py", "--out", "README.md/grades"],
     "cannot write to the output folder README.md/grades"),
    (["grade", "optimizers", "examples/optimizers/alice.py", "--out", "/proc/grades"],
     "cannot write to the output folder /proc/grades"),
])
def test_only_the_callers_own_mistakes_stop_a_batch_with_one_line(args, words):
    result = run(*args)
    assert result.returncode == 2, result.stdout
    assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr


# --------------------------------------------------------------------------- 2. links never lead out


LINKS = {  # name -> (target, followed?, words of the note when not)
    "absolute": ("/etc/shadow", False, "is a symbolic link to /etc/shadow, an absolute path, outside the submission"),
    "climbs": ("../../../../../../../etc/passwd", False, "outside the submission"),
    "reference": (str(REFERENCE), False, f"is a symbolic link to {REFERENCE}, an absolute path"),
    "dangling": ("nowhere.py", False, "is a symbolic link to nowhere.py, which is not in the submission"),
    "loop": ("loop/optimizers.py", False, "in a loop of links"),
    "chain_out": ("hop.py", False, "outside the submission"),  # hop.py -> ../.. : a chain that leads out
    "chain_in": ("hop_in.py", True, ""),  # hop_in.py -> src/real.py
    "inside": ("src/real.py", True, ""),
    "through_folder": ("alias/real.py", True, ""),  # alias -> src, a link to a folder inside
}


def link_folder(root: Path, kind: str, reference_relative: str) -> Path:
    """A student's folder whose optimizers.py is a link of ``kind`` (see LINKS)."""
    folder = root / kind
    write(folder / "src" / "real.py")
    os.symlink("src", folder / "alias")
    os.symlink("../../../../../../..", folder / "hop.py")
    os.symlink("src/real.py", folder / "hop_in.py")
    target = LINKS[kind][0] if kind != "reference_relative" else reference_relative
    if kind == "loop":
        os.symlink("loop", folder / "loop")  # a link to itself: every path through it loops
    os.symlink(target, folder / "optimizers.py")
    return folder


def zipped(folder: Path, archive: Path) -> Path:
    """``folder`` as a zip, its links stored as links (as `zip --symlinks` does)."""
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            name = path.relative_to(folder).as_posix()
            if path.is_symlink():
                link_member(z, name, os.readlink(path))
            elif path.is_file():
                z.write(path, name)
    return archive


@pytest.mark.parametrize("container", ["folder", "zip"])
@pytest.mark.parametrize("kind", [*LINKS, "reference_relative"])
def test_a_link_is_followed_only_inside_the_submission(tmp_path, container, kind):
    root = tmp_path / "subs"
    relative = os.path.relpath(REFERENCE, root / kind)
    folder = link_folder(root, kind, relative)
    path = folder if container == "folder" else zipped(folder, tmp_path / f"{kind}.zip")
    target, followed, words = LINKS.get(kind, (relative, False, "outside the submission"))
    if followed:
        staged = stage(path, "optimizers", tmp_path / "work")
        assert staged.module_file.read_text() == ALICE
        return
    with pytest.raises(StagingError) as caught:
        stage(path, "optimizers", tmp_path / "work")
    message = str(caught.value)
    assert words in message and "optimizers.py" in message and ": not read" in message, message
    # and the reference's text never reaches the staged folder
    assert not any("bias_correction" in p.read_text(errors="replace") for p in (tmp_path / "work").glob("*"))


def test_a_zip_never_writes_through_its_own_link_whatever_the_order_of_its_members(tmp_path):
    """`d -> <outside>` then `d/x.py` (and the other way round): staging, the class unpacker and the
    cluster's packer write nothing outside their own folders."""
    outside = tmp_path / "outside"
    outside.mkdir()
    for order, name in ((0, "first"), (1, "second")):
        archive = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(archive, "w") as z:
            members = [lambda: link_member(z, "d", str(outside)), lambda: z.writestr("d/optimizers.py", ALICE)]
            for add in members[order:] + members[:order]:
                add()
        if order == 0:
            with pytest.raises(StagingError, match="d/optimizers.py is under d, which is a symbolic link: not read"):
                stage(archive, "optimizers", tmp_path / f"work-{name}")
        else:  # a member first makes d a folder: the later link of the same name is skipped
            staged = stage(archive, "optimizers", tmp_path / f"work-{name}")
            assert "d is a second entry of that name" in " ".join(staged.notes)
        # a class of such zips is unpacked with links kept as links: still nothing written outside
        class_zip = tmp_path / f"class-{name}.zip"
        with zipfile.ZipFile(class_zip, "w") as z:
            z.writestr("alice/optimizers.py", ALICE)
            link_member(z, "bob/d", str(outside))
            z.writestr("bob/d/optimizers.py", ALICE)
            link_member(z, "carol/optimizers.py", "../alice/optimizers.py")  # a classmate's file
        found = {f.submission: f for f in discover([class_zip], "optimizers", tmp_path / f"unpacked-{name}")}
        assert set(found) == {"alice", "bob", "carol"}
        with pytest.raises(StagingError, match="outside the submission"):
            stage(found["carol"].path, "optimizers", tmp_path / f"carol-{name}")
        assert list(outside.iterdir()) == []


def test_a_class_entry_that_links_out_of_the_class_is_that_students_zero(tmp_path):
    folder = tmp_path / "class"
    write(folder / "alice.py")
    write(tmp_path / "elsewhere" / "optimizers.py")
    os.symlink(REFERENCE, folder / "mallory.py")
    os.symlink(tmp_path / "elsewhere", folder / "eve")
    os.symlink("alice.py", folder / "twin.py")  # inside the class: followed
    found = {f.submission: f for f in discover([folder], "optimizers", tmp_path / "work")}
    assert set(found) == {"alice", "mallory", "eve", "twin"}
    assert found["alice"].problem is None and found["twin"].problem is None
    assert found["mallory"].problem == f"mallory.py is a symbolic link to {REFERENCE}, outside the class folder: not read"
    assert "eve is a symbolic link" in found["eve"].problem
    out = tmp_path / "grades"
    assert run("grade", "optimizers", str(folder), "--out", str(out)).returncode == 0
    scores = {sid: r["score"] for sid, r in reports(out).items()}
    assert scores == {"alice": 100, "twin": 100, "mallory": 0, "eve": 0}


def test_the_tree_lists_links_to_folders_once_and_stops_at_loops(tmp_path):
    folder = tmp_path / "repo"
    write(folder / "src" / "optimizers.py")
    os.symlink("..", folder / "src" / "up")  # a loop through the parent
    os.symlink("src", folder / "alias")
    os.symlink("/", folder / "root")
    with Tree.from_folder(folder) as tree:
        listing = tree.files()
    assert [(str(a), str(b)) for a, b in listing.files] == [("alias/optimizers.py", "src/optimizers.py"),
                                                            ("src/optimizers.py", "src/optimizers.py")]
    reasons = {str(s.path): s.reason for s in listing.skipped}
    assert "a loop" in reasons["src/up"] and "a loop" in reasons["alias/up"]
    assert "an absolute path" in reasons["root"]


# --------------------------------------------------------------------------- 3. ids are safe


def test_safe_id_makes_one_plain_folder_name_of_anything():
    assert safe_id("..") == "submission" and safe_id(".") == "submission" and safe_id("") == "submission"
    assert safe_id("-rf") == "rf" and safe_id("--all") == "all"
    assert safe_id("a/../../b") == "a_.._.._b" and safe_id("/etc/passwd") == "etc_passwd"
    assert safe_id("a\x00b") == "a_b" and safe_id("a\\b") == "a_b"
    assert safe_id("ｂｏｂ") == "bob" and safe_id("Zoe\u0308") == safe_id("Zo\u00eb") == "Zo\u00eb"
    assert safe_id("\u202eevil") == "evil"  # a right-to-left override is no letter
    long = safe_id("x" * 300)
    assert len(long.encode()) <= MAX_ID_BYTES and long != safe_id("x" * 299)
    assert len(safe_id("é" * 300).encode()) <= MAX_ID_BYTES


def test_unique_ids_never_give_two_students_one_folder():
    assert unique_ids(["bob", "Bob", "BOB"]) == ["bob", "Bob-2", "BOB-3"]  # one folder on macOS
    assert unique_ids(["summary.md", "gradebook.csv"]) == ["summary.md-2", "gradebook.csv-2"]
    long = safe_id("y" * 300)
    twins = unique_ids([long, long])
    assert twins[0] != twins[1] and all(len(t.encode()) <= MAX_ID_BYTES for t in twins)


def test_hostile_names_in_an_export_stay_inside_the_output_folder_and_apart(tmp_path):
    """A Gradescope export whose submitters are named `..`, `.`, `-rf`, `a/../../b`, with a NUL, 300
    characters, `summary.md`, and a Unicode twin of another student: one report each, all inside `out`."""
    export = tmp_path / "export"
    names = ["..", ".", "-rf", "../../escape", "a/b", "nul\\0here", "L" * 300, "summary.md", "Zoë", "Zoe\u0308",
             "ｂｏｂ", "bob", "Alice", "alice"]
    metadata = []
    for n, name in enumerate(names):
        write(export / f"submission_{n}" / "optimizers.py", "X = 1\n")
        metadata.append(f"submission_{n}:\n  :submitters:\n  - :name: \"{name}\"\n")
    write(export / "submission_metadata.yml", "".join(metadata))
    out = tmp_path / "box" / "grades"
    result = run("grade", "optimizers", str(export), "--out", str(out))
    assert result.returncode == 0, result.stderr
    folders = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(folders) == len(names) == len(reports(out))
    assert len({p.name.casefold() for p in folders}) == len(names)
    assert all((p / "report.json").is_file() and len(p.name.encode()) <= MAX_ID_BYTES for p in folders)
    assert sorted(p.name for p in (tmp_path / "box").iterdir()) == ["grades"]  # nothing written beside out
    assert (out / "summary.md").is_file() and (out / "summary.md-2" / "report.json").is_file()


# --------------------------------------------------------------------------- 4. one run per output folder


def test_a_second_run_on_the_same_output_folder_refuses_and_the_gradebook_stays_whole(tmp_path):
    subs = tmp_path / "subs"
    for n in range(40):
        write(subs / f"s{n:02}.py")
    out = tmp_path / "grades"
    env = {**os.environ, "GRADER_SECRET": TEST_SECRET.decode()}
    command = [*GRADER, "--course", str(ROOT), "grade", "optimizers", str(subs), "--out", str(out), "--workers", "1"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = out / ".grader.lock"
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().startswith(f"pid {first.pid}")):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.poll() is None, "the first run ended before the second started: make the batch larger"
    assert second.returncode == 2
    assert second.stderr.count("\n") == 1 and f"{out} is in use by another grader (pid {first.pid}" in second.stderr
    _, errors = first.communicate(timeout=300)
    assert first.returncode == 0, errors
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute("SELECT submission, count(*), max(score) FROM grades GROUP BY submission").fetchall()
        checks = db.execute("SELECT count(*), count(DISTINCT submission) FROM checks").fetchone()
    assert sorted(r[0] for r in rows) == [f"s{n:02}" for n in range(40)]
    assert {(r[1], r[2]) for r in rows} == {(1, 100.0)} and checks == (40 * 18, 40)
    # the lock went with its holder: the next run proceeds, and finds everything graded
    again = run("grade", "optimizers", str(subs), "--out", str(out))
    assert again.returncode == 0 and "0 graded now, 40 unchanged" in again.stdout


def test_a_lock_left_by_a_killed_run_does_not_block_the_next(tmp_path):
    """... and what the killed run's fork servers left in TMPDIR, the next run removes."""
    subs = tmp_path / "subs"
    for n in range(12):
        write(subs / f"s{n:02}.py")
    out, tmp = tmp_path / "grades", tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "GRADER_SECRET": TEST_SECRET.decode(), "TMPDIR": str(tmp)}
    first = subprocess.Popen([*GRADER, "--course", str(ROOT), "grade", "optimizers", str(subs), "--out", str(out)],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not (out / ".grader.lock").exists() or not (out / ".grader.lock").read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    while not list(tmp.glob("grader-zygote-*")):  # a fork server is up: its folder is what a kill leaves
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(first.pid, 9)
    first.wait()
    left = sorted(p.name for p in tmp.iterdir())
    assert left, "the killed run left nothing to sweep: the test shows nothing"
    result = subprocess.run([*GRADER, "--course", str(ROOT), "grade", "optimizers", str(subs), "--out", str(out)],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert len(reports(out)) == 12
    assert sorted(p.name for p in tmp.iterdir()) == []


def test_the_sweep_removes_only_the_folders_of_judges_that_are_gone(tmp_path):
    from grader.sandbox.forkserver import OWNER_FILE, STALE_SECONDS, sweep_stale

    gone = subprocess.Popen(["true"])
    gone.wait()
    folders = {name: tmp_path / f"grader-zygote-{name}" for name in ("dead", "alive", "old", "new")}
    for folder in folders.values():
        folder.mkdir()
        (folder / "zygote.log").write_text("log")
    (folders["dead"] / OWNER_FILE).write_text(f"{gone.pid}\n")
    (folders["alive"] / OWNER_FILE).write_text(f"{os.getpid()}\n")
    os.utime(folders["old"], (time.time() - STALE_SECONDS - 60,) * 2)
    write(tmp_path / "grader-zygote-file", "not a folder")
    assert sweep_stale(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grader-zygote-alive", "grader-zygote-file",
                                                         "grader-zygote-new"]


def test_a_skipped_link_and_a_file_graded_under_another_name_are_in_every_report_the_student_sees(tmp_path):
    folder = tmp_path / "class"
    write(folder / "ann" / "hw3.py")
    os.symlink("/etc/shadow", folder / "ann" / "secrets.py")
    write(folder / "bob.py")
    out = tmp_path / "grades"
    assert run("grade", "optimizers", str(folder), "--out", str(out)).returncode == 0
    ann = reports(out)["ann"]
    assert ann["score"] == 100
    assert ann["notes"] == ["the folder ann: secrets.py is a symbolic link to /etc/shadow, an absolute path, "
                            "outside the submission: not read",
                            "the folder ann holds no optimizers.py: hw3.py was graded as optimizers.py"]
    page = (out / "ann" / "report.html").read_text()
    gradescope = json.loads((out / "ann" / "results.json").read_text())["output"]
    for note in ann["notes"]:
        assert note in gradescope
        assert note in page


def test_the_cluster_ships_a_folder_with_its_links_as_links_and_stages_it_as_here(tmp_path):
    """A Dask task carries the submission's files: a link is packed as a link (never the file it points
    to), and the worker's staging judges it as a local one would."""
    from grader.cluster import pack, unpack

    folder = tmp_path / "ann"
    write(folder / "src" / "real.py")
    os.symlink("src/real.py", folder / "optimizers.py")
    os.symlink("/etc/passwd", folder / "helpers.py")
    kind, name, data = pack(folder)
    assert (kind, name) == ("folder", "ann")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        member = z.getinfo("helpers.py")
        assert stat.S_ISLNK(member.external_attr >> 16) and z.read(member) == b"/etc/passwd"
    landed = unpack((kind, name, data), tmp_path / "task")
    assert os.readlink(landed / "helpers.py") == "/etc/passwd"
    staged = stage(landed, "optimizers", tmp_path / "work")
    assert staged.module_file.read_text() == ALICE
    assert sorted(p.name for p in staged.workdir.iterdir()) == ["optimizers.py"]
    assert any("helpers.py is a symbolic link to /etc/passwd" in note for note in staged.notes)


def test_a_lone_surrogate_in_a_students_exception_is_spelled_out_not_fatal(tmp_path):
    """`raise ValueError("\\udcff")`: text that UTF-8 cannot encode once killed the judge that tried to send
    the report (the fuzz run found it); now it is written as `\\udcff` and the batch goes on."""
    folder = tmp_path / "class"
    write(folder / "alice.py")
    write(folder / "sam.py", ALICE.replace("def adam(", "def adam_(") +
          "\ndef adam(theta, grad, state, **kwargs):\n    raise ValueError('bad \\udcff byte')\n")
    out = tmp_path / "grades"
    result = run("grade", "optimizers", str(folder), "--out", str(out), "--workers", "2")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    sam = reports(out)["sam"]
    assert 0 < sam["score"] < 100
    assert any("bad \\udcff byte" in c["message"] for c in sam["checks"] if c["status"] == "error")


def test_a_member_a_class_zip_cannot_unpack_is_that_students_zero(tmp_path):
    """A Canvas zip whose member for one student fails its CRC: the others are graded, and that student
    gets a report that says so, not silence."""
    export = tmp_path / "canvas.zip"
    with zipfile.ZipFile(export, "w") as z:  # stored, not deflated: a flipped byte is a bad CRC, not a bad stream
        z.writestr("doealice_1_11_optimizers.py", ALICE)
        z.writestr("roebob_2_22_optimizers.py", ALICE)
    with zipfile.ZipFile(export) as z:
        bob = z.getinfo("roebob_2_22_optimizers.py")
        start = bob.header_offset + 30 + len(bob.filename.encode()) + len(bob.extra)
    data = bytearray(export.read_bytes())
    data[start + 10] ^= 0xFF
    export.write_bytes(bytes(data))
    found = {f.submission: f for f in discover([export], "optimizers", tmp_path / "work")}
    assert set(found) == {"doealice", "roebob"}
    assert found["doealice"].problem is None
    assert found["roebob"].problem.startswith("roebob_2_22_optimizers.py in canvas.zip cannot be unpacked")
    assert "CRC" in found["roebob"].problem
