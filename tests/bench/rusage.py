"""Runs one command as a whole process and prints how long it took and its peak memory, as JSON.

    python3 tests/bench/rusage.py LOG -- COMMAND [ARG ...]

The command's output (stdout and stderr) is appended to LOG. Printed, on one line: its exit status,
wall-clock seconds, user and system CPU seconds, and the peak resident set size in KiB of the
largest process it ran (the operating system's accounting of the finished processes: getrusage of
the waited-for children, so a `deno task` counts the `deno run` it starts).
"""
import json
import resource
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit("usage: rusage.py LOG -- COMMAND [ARG ...]")
    log, command = sys.argv[1], sys.argv[3:]
    with open(log, "ab") as out:
        start = time.perf_counter()
        code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "code": code,
        "wall": wall,
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        "maxrssKiB": usage.ru_maxrss,
    }))


if __name__ == "__main__":
    main()
