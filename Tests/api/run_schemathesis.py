#!/usr/bin/env python3
"""Schemathesis (PyPI) fuzzes the running service against its own OpenAPI document.

Starts `subterra serve` on a free loopback port over the sample district (Datasets/sample:
survey files, so edits stay in the server's memory and no file changes) with one user whose
role sees, edits and audits everything, then runs `schemathesis run` on /openapi.json with that
user's key for a bounded time (SCHEMA_SECONDS, 75 by default) and these checks:

- not_a_server_error: no 5xx, whatever the request;
- response_schema_conformance: every answer matches the document (status, body schema).

The server's log and schemathesis's report go to $API_TEST_OUT (default .build/api-test); the
server is stopped whatever happens. Exit status 0 when schemathesis found nothing; 1 with
`api: FAIL …` lines on stderr otherwise.

    python3 Tests/api/run_schemathesis.py [--bin .build/debug/subterra] [--out DIR]
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests", "browser"))
from serve_harness import Server, free_port, make_key, sample_config  # noqa: E402


def log(message):
    print(f"api: {message}", file=sys.stderr, flush=True)


def schemathesis_command(venv_bin, url, key, seconds, report):
    """`schemathesis run` (4.x): both checks, the key, one worker (two cores are shared with the
    server), `--max-time` as the bound."""
    return [os.path.join(venv_bin, "schemathesis"), "run", url,
            "--checks", "not_a_server_error,response_schema_conformance",
            "--header", f"Authorization: Bearer {key}", "--workers", "1", "--max-time", str(seconds),
            "--suppress-health-check", "too_slow,filter_too_much", "--report", "junit", "--report-dir", report]


def run(binary, out, seconds):
    work = tempfile.mkdtemp(prefix="subterra-api-")
    key, user = make_key(binary, "fuzz", "everything")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config_path = sample_config(port, work, {"everything": {"layers": "*", "fields": "*", "edit": "*", "admin": True}}, [user],
                                digChecks={"path": os.path.join(work, "dig-checks.jsonl")})
    venv_bin = os.path.join(ROOT, ".build", "api-venv", "bin")
    server = Server(binary, config_path, os.path.join(out, "server.log"))
    try:
        server.wait_ready(base)
        log(f"server ready at {base}; schemathesis for at most {seconds} s")
        command = schemathesis_command(venv_bin, base + "/openapi.json", key, seconds, out)
        with open(os.path.join(out, "schemathesis.log"), "w") as report:
            # In `out`: schemathesis keeps its cache (.schemathesis/) in its working directory.
            process = subprocess.Popen(command, stdout=report, stderr=subprocess.STDOUT, start_new_session=True, cwd=out)
            try:
                status = process.wait(timeout=seconds + 120)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                log(f"FAIL schemathesis did not stop within {seconds} + 120 s")
                return 1
        text = open(os.path.join(out, "schemathesis.log")).read()
        failed = status != 0
        if server.process.poll() is not None:
            log(f"FAIL the server exited (status {server.process.returncode}); see {out}/server.log")
            return 1
        if failed:
            tail = "\n".join(text.splitlines()[-60:])
            log(f"FAIL schemathesis found problems (exit {status}); report in {out}/schemathesis.log:\n{tail}")
            return 1
        log("passed: no server error, every answer in the schema")
        return 0
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=os.environ.get("SUBTERRA_BIN", os.path.join(ROOT, ".build", "debug", "subterra")))
    parser.add_argument("--out", default=os.environ.get("API_TEST_OUT", os.path.join(ROOT, ".build", "api-test")))
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("SCHEMA_SECONDS", "75")))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if not os.access(args.bin, os.X_OK):
        log(f"FAIL no subterra binary at {args.bin} (build first)")
        return 1
    return run(os.path.abspath(args.bin), os.path.abspath(args.out), args.seconds)


if __name__ == "__main__":
    sys.exit(main())
