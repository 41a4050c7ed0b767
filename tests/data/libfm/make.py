"""Makes the tiny libFM fixture (tests/data/libfm_test.ts, tests/runner/runner_test.ts):
3 one-hot fields (user 0-5, item 6-15, category 16-18), labels -1/1 with a user×item signal.
Run from this folder: python3 make.py"""
import random
random.seed(3)


def row():
    u = random.randrange(0, 6); i = random.randrange(6, 16); c = random.randrange(16, 19)
    p = 0.8 if (u + i) % 3 == 0 else 0.2
    y = 1 if random.random() < p else -1
    return f"{y} {u}:1 {i}:1 {c}:1"


for name, n in [("train", 64), ("valid", 12), ("test", 12)]:
    open(f"{name}.libfm", "w").write("\n".join(row() for _ in range(n)) + "\n")
open("libfm.json", "w").write('{"numFeatures": 19}\n')
