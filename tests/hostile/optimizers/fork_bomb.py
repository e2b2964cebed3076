# threat: fork many processes and start many threads
import os
import threading
import time

children = 0
try:
    while children < 100_000:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        children += 1
except OSError:
    pass
threads = 0
try:
    while threads < 100_000:
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        threads += 1
except (RuntimeError, OSError):
    pass
print("forked", children, "threads", threads)
