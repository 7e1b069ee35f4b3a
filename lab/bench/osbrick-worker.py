#!/usr/bin/env python3
"""os-brick side of `pnpm bench:lab`: a long-lived worker driven by bench.mjs.

Reads one JSON request per line on stdin, answers one JSON line on stdout:
  {"op": "connect", "info": {...}, "multipath": bool}
  {"op": "disconnect", "info": {...}, "device": {...}, "multipath": bool}
  {"op": "burst", "kind": "connect"|"disconnect", "items": [{"info", "device"?}], "multipath": bool}
    every item at once, one thread each (as Nova's threads call one connector);
    answers {"wall_ms", "items": [{"ok", "ms", "result", "error"}]}
Runs as root, in-process: privsep's client mode is off, so os-brick's
privileged entrypoints run in this process (no privsep daemon, no sudo);
root_helper is a trivial helper (`env`) that is never spawned in that mode.
Counts every process os-brick spawns (oslo processutils.execute, by argv[0])
and the time it spends in time.sleep.
"""
import json
import sys
import threading
import time

t0 = time.monotonic()
from oslo_config import cfg  # noqa: E402
from oslo_concurrency import processutils as putils  # noqa: E402
import os_brick  # noqa: E402
from os_brick import privileged  # noqa: E402
from os_brick.initiator import connector  # noqa: E402
import_ms = (time.monotonic() - t0) * 1000

cfg.CONF([], project="brick-bench")
cfg.CONF.set_override("lock_path", "/run/osbrick-bench-locks", group="oslo_concurrency")
os_brick.setup(cfg.CONF)
privileged.default.set_client_mode(False)

counts = {}
sleep_ms = [0.0]
_execute = putils.execute
_sleep = time.sleep


def counting_execute(*cmd, **kwargs):
    name = str(cmd[0]).rsplit("/", 1)[-1] if cmd else "?"
    counts[name] = counts.get(name, 0) + 1
    return _execute(*cmd, **kwargs)


def counting_sleep(s):
    sleep_ms[0] += s * 1000
    _sleep(s)


putils.execute = counting_execute
time.sleep = counting_sleep

connectors = {}


def get(multipath):
    if multipath not in connectors:
        connectors[multipath] = connector.InitiatorConnector.factory(
            "ISCSI", root_helper="env", use_multipath=multipath, device_scan_attempts=3)
    return connectors[multipath]


t1 = time.monotonic()
get(False)
get(True)
factory_ms = (time.monotonic() - t1) * 1000
print(json.dumps({"ready": True, "import_ms": import_ms, "factory_ms": factory_ms}), flush=True)


def call(c, kind, item):
    start = time.monotonic()
    try:
        if kind == "connect":
            result = c.connect_volume(item["info"])
        else:
            result = c.disconnect_volume(item["info"], item.get("device"))
        ok, error = True, None
    except Exception as e:  # noqa: BLE001
        ok, error, result = False, f"{type(e).__name__}: {e}", None
    return {"ok": ok, "ms": (time.monotonic() - start) * 1000, "result": result, "error": error}


def burst(req):
    c = get(bool(req.get("multipath")))
    items = req["items"]
    out = [None] * len(items)

    def run(i):
        out[i] = call(c, req["kind"], items[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(items))]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"wall_ms": (time.monotonic() - start) * 1000, "items": out,
            "counts": dict(counts), "sleep_ms": sleep_ms[0]}


for line in sys.stdin:
    req = json.loads(line)
    counts.clear()
    sleep_ms[0] = 0.0
    if req["op"] == "burst":
        print(json.dumps(burst(req), default=str), flush=True)
        continue
    r = call(get(bool(req.get("multipath"))), req["op"], req)
    print(json.dumps({**r, "counts": dict(counts), "sleep_ms": sleep_ms[0]}, default=str), flush=True)
