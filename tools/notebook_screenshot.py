"""A picture of an in-notebook check as a student sees it: the optimizers notebook with one mistake in adam.

    pip install nbconvert            # not a dependency of the grader: only this picture needs it
    python tools/notebook_screenshot.py OUT.png [--mathjax URL]

Runs the generated optimizers notebook in a real kernel (nbclient) with the reference's functions filled in
and Adam's bias correction counting from 0, keeps the cells from Adam's formula to its path on the
Rosenbrock surface, renders them with nbconvert's HTML exporter and photographs the page with headless
Chromium. ``--mathjax``: where MathJax 2 is (nbconvert's default is a CDN; offline, `npm install
mathjax@2.7.9` and pass file:///.../node_modules/mathjax/MathJax.js?config=TeX-AMS_CHTML-full).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

MISTAKE = ("adam", "m_hat = m / (1.0 - beta1**t)", "m_hat = m / (1.0 - beta1**(t + 1))")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--mathjax", default=None)
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args()
    from nbconvert import HTMLExporter
    from test_notebook_kernels import filled, run

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "homework"
        shutil.copytree(ROOT / "student_template", folder)
        notebook = run(filled("optimizers", MISTAKE), folder)
        sources = [c.source for c in notebook.cells]
        start = next(i for i, s in enumerate(sources) if s.startswith("## Adam"))
        end = next(i for i, s in enumerate(sources) if "show_paths(" in s)
        notebook.cells = notebook.cells[start:end + 1]
        exporter = HTMLExporter(template_name="lab")
        if args.mathjax:
            exporter.mathjax_url = args.mathjax
        body, _ = exporter.from_notebook_node(notebook)
        page = Path(tmp) / "adam.html"
        page.write_text(body, encoding="utf-8")
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--virtual-time-budget=8000", f"--window-size={args.width},{args.height}",
                        f"--screenshot={args.out.resolve()}", page.as_uri()], check=True, capture_output=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
