# threat: leave processes behind (double fork, setsid) that keep acting after the grade ends
import os
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:  # marked by its name for the test to look for
            time.sleep(0.05)
            try:
                os.setproctitle("grader-hostile-survivor")
            except AttributeError:
                open("/tmp/alive", "w").write(str(time.time()))
    os._exit(0)
