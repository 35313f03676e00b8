"""Fetches a URL N times with --strategy/--workers (an I/O-bound client for http-fetch.yml)."""
import argparse
import concurrent.futures
import time
import urllib.request


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return len(r.read())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--strategy", default="serial")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--requests", type=int, default=40)
    a = p.parse_args()
    start = time.perf_counter()
    urls = [a.url] * a.requests
    if a.strategy == "serial":
        sizes = [fetch(u) for u in urls]
    else:
        cls = concurrent.futures.ThreadPoolExecutor if a.strategy == "threads" else concurrent.futures.ProcessPoolExecutor
        with cls(max_workers=a.workers) as ex:
            sizes = list(ex.map(fetch, urls))
    print("fetched", len(sizes), "responses,", sum(sizes), "bytes")
    print("elapsed %.3f s" % (time.perf_counter() - start))


if __name__ == "__main__":
    main()
