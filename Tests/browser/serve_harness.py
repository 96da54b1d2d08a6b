"""Starting `subterra serve` for the Python tests (the browser test, the schemathesis run):
a free loopback port, API keys from `subterra serve hash-key`, the server in its own process
group. Standard library only."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_key(binary, name, role):
    """A new API key and its `users` entry, from `subterra serve hash-key`."""
    out = subprocess.run([binary, "serve", "hash-key", "--name", name, "--role", role],
                         check=True, capture_output=True, text=True).stdout
    key = entry = None
    for line in out.splitlines():
        if line.startswith("key: "):
            key = line[5:].strip()
        elif line.startswith('entry for "users": '):
            entry = json.loads(line.split(": ", 1)[1])
    assert key and entry, f"unexpected hash-key output: {out!r}"
    return key, entry


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sample_config(port, work, roles, users, **extra):
    """A configuration serving the sample district (Datasets/sample: survey files, so edits stay
    in the server's memory) on loopback `port`, its audit log in `work`, written to
    `work/serve.json`; returns that path."""
    config = {
        "listen": f"127.0.0.1:{port}",
        "store": os.path.join(ROOT, "Datasets", "sample"),
        "audit": {"path": os.path.join(work, "audit.jsonl"), "fsync": "never"},
        "roles": roles,
        "users": users,
        **extra,
    }
    path = os.path.join(work, "serve.json")
    with open(path, "w") as f:
        json.dump(config, f, indent=1)
    return path


def get_json(base, path, key):
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.load(r)


class Server:
    """`subterra serve` in its own process group, stopped by SIGTERM (then SIGKILL)."""

    def __init__(self, binary, config, log_path):
        self.log = open(log_path, "w")
        self.process = subprocess.Popen([binary, "serve", "--config", config], stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, base, seconds=180):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.process.returncode} (see its log)")
            try:
                with urllib.request.urlopen(base + "/health", timeout=5) as r:
                    if json.load(r).get("engine") == "loaded":
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the server was not ready within {seconds} s")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
