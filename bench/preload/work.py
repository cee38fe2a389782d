# The python3 workload of make bench-preload: many small objects.  Builds a
# list of records (dicts of strings, ints and lists), sorts it two ways,
# groups it in a dict of lists, makes a JSON text of it and parses it back,
# and prints a summary that depends on every record (and not on the hash
# seed: sorted, or sums).
import json
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
x = 12345


def rnd():
    global x
    x = x * 16807 % 2147483647
    return x


words = ["".join(chr(97 + (k * 7 + j * 13) % 26) for j in range(3 + k % 9)) for k in range(5000)]
records = []
for i in range(n):
    r = rnd()
    records.append({
        "id": i,
        "name": words[r % 5000] + "-" + str(r % 977),
        "tags": [words[(r >> s) % 5000] for s in (3, 7, 11, 13)][: 1 + r % 4],
        "score": (r % 100003) / 7.0,
    })
by_name = sorted(records, key=lambda d: (d["name"], d["id"]))
by_score = sorted(records, key=lambda d: (-d["score"], d["id"]))
groups = {}
for d in records:
    for t in d["tags"]:
        groups.setdefault(t, []).append(d["id"])
text = json.dumps(by_name, sort_keys=True)
back = json.loads(text)
assert back == by_name
joined = ",".join(d["name"] for d in back)
index = {d["name"] + "/" + str(d["id"]): d for d in back}
print(len(text), len(joined), len(index), len(groups))
print(by_name[0]["name"], by_name[-1]["name"], by_score[0]["id"], by_score[-1]["id"])
print(sum(len(v) for v in groups.values()), max(len(v) for v in groups.values()))
print(sorted((len(v), k) for k, v in groups.items())[-5:])
