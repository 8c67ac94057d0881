#!/usr/bin/python3
"""bench/recovery: how fast picsec recovers from its PIC's death, beside strongSwan's charon
recovering from its own, in one run on deploy/topology/two-site.

  picsec            gwA's picsec-fwd SIGKILLed under `picsec-healthd --supervise` (which
                    starts it again); gwB is picsec. Without clear-ipsec-sas-on-pic-restart
                    the SAs survive and the new PIC gets them.
  picsec+clear      the same with clear-ipsec-sas-on-pic-restart on gwA: the SAs are
                    deleted, and negotiated again once the PIC is back.
  strongswan        charon (5.9.8, kernel-libipsec: IKE and ESP in one process) on gwB
                    SIGKILLed and started again at once, as systemd would, initiating its
                    tunnel (start_action = start) with picsec on gwA: the monolith's restart.

Per kill it measures, from the SIGKILL: the DOWN event (healthd's service.fwd.*), the
cleanup event (cleanup.*, with the clear statement), and the first ping answered across the
tunnel (pings of 0.1 s every 50 ms from hostA). Goals (issue 6): cleanup events <= 100 ms
after the death; traffic back <= 1 s without the clear statements.

Usage: bench/recovery/recovery.py [--kills N] (default 5 per case). Root; the topology's
lock is taken (bounded wait)."""
import argparse
import os
import signal
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration", "two_site"))
sys.path.insert(0, os.path.join(REPO, "tests", "interop"))
import two_site as ts  # noqa: E402
import interop  # noqa: E402

RUN = "/run/picsec-two-site"
HOST_B = "198.18.2.10"


def ping_back(t0, limit=20.0):
    """Seconds from t0 (time.time()) to the first answered ping, or None."""
    while time.time() - t0 < limit:
        r = ts.node("hostA", "ping", "-c", "1", "-W", "0.1", HOST_B, check=False)
        if r.returncode == 0:
            return time.time() - t0
        time.sleep(0.05)
    return None


def fwd_pid():
    r = ts.run(["pgrep", "-f", "picsec-fwd --rundir %s/gwA --pic" % RUN], check=False)
    return int(r.stdout.split()[0]) if r.stdout.strip() else 0


def picsec_case(tmp, clear, kills):
    with open(os.path.join(ts.EXAMPLES, "two-site-dynamic-esp-a.conf")) as f:
        text = f.read()
    if clear:
        text = text.replace("    ipsec-vpn {\n",
                            "    ipsec-vpn {\n        clear-ipsec-sas-on-pic-restart;\n", 1)
    conf = os.path.join(tmp, "a.conf")
    with open(conf, "w") as f:
        f.write(text)
    os.environ["PICSEC_SUPERVISE"] = "1"
    try:
        ts.topology("up", "--a", conf, "--b",
                    os.path.join(ts.EXAMPLES, "two-site-dynamic-esp-b.conf"))
    finally:
        del os.environ["PICSEC_SUPERVISE"]
    rows = []
    try:
        if ping_back(time.time(), 20) is None:
            raise RuntimeError("no tunnel after 20 s")
        for _ in range(kills):
            bus = ts.Busmon("gwA")
            pid = fwd_pid()
            t0 = time.time()
            os.kill(pid, signal.SIGKILL)
            back = ping_back(t0)
            time.sleep(0.3)
            evs = [e for e in bus.stop() if e.get("kind") == "event"]
            for e in evs:  # healthd's own clock of the change, where it gives one
                if e.get("type") == "ServiceState":
                    e["t"] = float(e["payload"].get("since_ns", 0)) / 1e9
            down = [e["t"] - t0 for e in evs if e.get("type") == "ServiceState" and
                    e["payload"].get("state") == "SERVICE_DOWN"]
            clean = [e["t"] - t0 for e in evs if e.get("type") == "SaCleanup"]
            rows.append((down[0] if down else None, clean[0] if clean else None, back))
            time.sleep(1.5)  # the PIC lived: healthd's back-off starts at its minimum
    finally:
        ts.topology("down")
    return rows


def strongswan_case(tmp, kills):
    s = interop.SETS["modp2048"]
    conf = interop.picsec_config(tmp, s, False)  # picsec responds; charon initiates
    ts.topology("up", "--a", conf, "--b", "none")
    swan = interop.Charon(tmp, s)
    rows = []
    try:
        swan.start()
        swan.swanctl("--initiate", "--child", interop.CHILD, "--timeout", "20", timeout=30)
        if ping_back(time.time(), 20) is None:
            raise RuntimeError("no tunnel with charon after 20 s")
        for _ in range(kills):
            t0 = time.time()
            os.killpg(swan.proc.pid, signal.SIGKILL)
            swan.proc.wait(timeout=5)
            # systemd's Restart= at once, then start_action = start.
            swan.start()
            swan.swanctl("--initiate", "--child", interop.CHILD, "--timeout", "20",
                         timeout=30, check=False)
            back = ping_back(t0)
            rows.append((None, None, back))
            time.sleep(1.0)
    finally:
        swan.stop()
        ts.topology("down")
    return rows


def ms(v):
    return "%7.1f" % (v * 1000) if v is not None else "      -"


def summary(name, rows, col):
    vals = [r[col] for r in rows if r[col] is not None]
    if not vals:
        return "      -"
    return "%7.1f" % (statistics.median(vals) * 1000)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=5)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/recovery: must run as root (network namespaces)")
    lock = ts._take_lock()
    results = {}
    with tempfile.TemporaryDirectory(prefix="picsec-recovery-") as tmp:
        results["picsec"] = picsec_case(tmp, False, args.kills)
        results["picsec+clear"] = picsec_case(tmp, True, args.kills)
        results["strongswan"] = strongswan_case(tmp, args.kills)
    lock.close()
    print("bench/recovery: %d SIGKILLs per case; milliseconds from the kill" % args.kills)
    print("%-14s %-5s %9s %9s %9s" % ("case", "kill", "DOWN ev", "cleanup", "traffic"))
    for name, rows in results.items():
        for i, (down, clean, back) in enumerate(rows):
            print("%-14s %-5d %9s %9s %9s" % (name, i + 1, ms(down), ms(clean), ms(back)))
    print()
    print("%-14s %9s %9s %9s   (medians)" % ("case", "DOWN ev", "cleanup", "traffic"))
    for name, rows in results.items():
        print("%-14s %9s %9s %9s" % (name, summary(name, rows, 0), summary(name, rows, 1),
                                     summary(name, rows, 2)))
    ref = [r[2] for r in results["strongswan"] if r[2] is not None]
    for name in ("picsec", "picsec+clear"):
        mine = [r[2] for r in results[name] if r[2] is not None]
        if ref and mine:
            print("%s traffic back: %.2fx strongSwan's restart (median %.0f ms vs %.0f ms)" % (
                name, statistics.median(ref) / statistics.median(mine),
                statistics.median(mine) * 1000, statistics.median(ref) * 1000))
    clean = [r[1] for r in results["picsec+clear"] if r[1] is not None]
    back = [r[2] for r in results["picsec"] if r[2] is not None]
    print("goal: cleanup events <= 100 ms after the death: %s (max %s ms)" % (
        "met" if clean and max(clean) <= 0.1 else "NOT met", ms(max(clean) if clean else None)))
    print("goal: traffic back <= 1 s without the clear statements: %s (max %s ms)" % (
        "met" if back and max(back) <= 1.0 else "NOT met", ms(max(back) if back else None)))


if __name__ == "__main__":
    main()
