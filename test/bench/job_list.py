"""The job list's speed (part of `npm run bench`): GET /jobs's logic (jobs.Jobs.list) over a local store
holding 10,000 jobs, newest first with the default limit, with a filter that matches one job in ten, and
following the cursor to the end. Medians of repeated calls, in milliseconds; the local store only (on Modal,
each store read is a network round trip to a modal.Dict: only a live Modal shows that figure)."""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path


def median_ms(call, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runtime", required=True, help="a synthesized app folder (jobs.py and its neighbours)")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.runtime)))
    import jobs

    endpoints = {"/a": {"timeout_seconds": 60}, "/b": {"timeout_seconds": 60}}
    queue = jobs.Jobs(jobs.ExpiringStore(jobs.LockedDict()), lambda *a: None, endpoints, args.jobs + 1, 86_400, None)
    for n in range(args.jobs):
        queue.submit("/a" if n % 10 else "/b", {"n": n}, metadata=json.dumps({"batch": str(n % 10)}))
        queue.finish(queue.record(queue.store.get("active")[-1]), jobs.SUCCEEDED)  # the record only: no files
        queue.store.put("active", [], 3600)  # as if each had run: the queue limit never binds

    def to_the_end():
        cursor = None
        while True:
            _, page = queue.list(limit=100, cursor=cursor)
            cursor = page["next_cursor"]
            if cursor is None:
                return

    print(f"job list, {args.jobs:,} jobs in a local store (medians of {args.runs}):")
    print(f"  GET /jobs (newest 20)                 {median_ms(lambda: queue.list(), args.runs):8.2f} ms")
    print(f"  GET /jobs?endpoint=/b (1 in 10)       {median_ms(lambda: queue.list(endpoint='/b'), args.runs):8.2f} ms")
    print(f"  all of them, 100 a page, by cursor    {median_ms(to_the_end, 5):8.2f} ms")


if __name__ == "__main__":
    main()
