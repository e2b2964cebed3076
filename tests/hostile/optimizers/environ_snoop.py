# threat: read environment variables, /proc/<ppid>/environ and cmdline looking for the seed and the output folder
import glob
import os

print(dict(os.environ))
for path in glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline"):
    try:
        print(path, open(path, "rb").read()[:4000])
    except OSError:
        pass
print(os.getppid(), os.listdir("/"))
