#!/usr/bin/python3
"""picsec-sadb killed (SIGKILL) and restarted on gwA in the middle of a TCP transfer over
the manual ESP tunnel: the transfer completes intact, the PIC kept its SAs (its counters
kept counting, so the SA objects are the same), and afterwards sadb and the PIC agree:
every SA sadb holds is installed. TAP output."""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_site as ts  # noqa: E402

RUNDIR = "/run/picsec-two-site/gwA"
STATEDIR = "/var/lib/picsec-two-site/gwA"


def sadb_pid():
    with open(os.path.join(RUNDIR, "pids")) as f:
        pids = [int(line.split()[1]) for line in f if line.split()[0] == "picsec-sadb"]
    return pids[-1]


def restart_sadb(log):
    pid = sadb_pid()
    os.kill(pid, signal.SIGKILL)
    log.append("killed sadb %d" % pid)
    time.sleep(0.5)
    out = open(os.path.join(RUNDIR, "picsec-sadb.log"), "a")
    proc = subprocess.Popen(["ip", "netns", "exec", "ps-gwA",
                             os.path.join(ts.BUILD, "services", "sadb", "picsec-sadb"),
                             "--rundir", RUNDIR, "--statedir", STATEDIR],
                            stdout=out, stderr=out, start_new_session=True)
    with open(os.path.join(RUNDIR, "pids"), "a") as f:
        f.write("picsec-sadb %d\n" % proc.pid)
    log.append("started sadb %d" % proc.pid)


def body(tmp):
    log = []
    ts.topology("up", "--a", ts.config_for("a", "esp", tmp), "--b",
                ts.config_for("b", "esp", tmp))
    ts.ok(ts.wait_for(lambda: ts.sa_states("gwA").count("installed") == 2, 10),
          "gwA's SAs are installed")
    ts.node("hostA", "ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.2.10",
            check=False)
    before = ts.counters("gwA")["esp-encrypted-packets"]

    def during():
        time.sleep(1.5)
        restart_sadb(log)

    ok = ts.transfer(32 << 20, seconds=5.0, during=during)
    ts.diag("\n".join(log))
    ts.ok(ok, "32 MiB over TCP, paced over 5 s, arrive intact across the restart")
    after = ts.counters("gwA")["esp-encrypted-packets"]
    ts.ok(after > before + 1000,
          "the PIC kept its SAs and their counters (%d -> %d)" % (before, after))
    states = []
    agreed = ts.wait_for(lambda: states.append(ts.sa_states("gwA")) or
                         states[-1] == ["installed", "installed"], 5, step=0.5)
    ts.ok(agreed, "the new sadb and the PIC agree: %s" % states[-1])
    with open(os.path.join(STATEDIR, "sadb-seq")) as f:
        lines = [line for line in f.read().splitlines() if not line.startswith("#")]
    ts.ok(lines and all(re.fullmatch(r"[0-9a-f]{16} [0-9a-f]{16} [0-9]+", line)
                        for line in lines),
          "the sequence journal holds ids, fingerprints and numbers only: %s" % lines)


def main():
    ts.tap_main(body)


if __name__ == "__main__":
    main()
