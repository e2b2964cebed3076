# threat: read the hidden checks, the spec and other students' submissions, and print them
import glob

for pattern in ("/work/**/test_hidden.py", "/work/**/assignment.toml", "/tmp/**/*.py", "/**/checks/*.py"):
    for path in glob.glob(pattern, recursive=True)[:20]:
        try:
            print(path, open(path).read()[:2000])
        except OSError:
            pass
