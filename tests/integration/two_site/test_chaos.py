#!/usr/bin/python3
"""Chaos on two-site (meson suite `chaos`): gwA runs the dynamic example under
`picsec-healthd --supervise` (gwB runs it as usual) while hostA pings hostB every 50 ms, and
gwA's processes (busd, configd, sadb, iked, the PIC fwd.ms-0/0/0 and healthd itself) are
SIGKILLed one at a time in a seeded random order, 50 kills (PICSEC_CHAOS_KILLS), the seed
printed (PICSEC_CHAOS_SEED replays a run). healthd restarts the others; healthd itself is
started again by the test with the command line and environment it had (as systemd
would), and must adopt what runs. After each kill, within 2 s (the time it took is
printed):
  (a) sadb's SAs are all installed and are exactly what the PIC holds: the SaList and
      PicStats replies to `show services ipsec-vpn ipsec statistics`, read off the bus
      with picsec-busmon (the CLI prints counters, not SA ids);
  (b) traffic flows: a ping sent after the kill was answered in the last 0.3 s;
  (c) the committed configuration and the commit history are what they were;
  (d) healthd lists every process up, and only the killed one has a new pid and
      incarnation; /proc holds exactly one process of each kind (nothing started twice).
A failure prints what was seen and the logs' tails and the run goes on (to count them),
up to 5. At the end: no ESP sequence number was sent twice under one SPI by gwA (a
capture on ps-wan for the whole run). Late effects count too: nothing may change between
the end of one kill's recovery and the next kill, nor in the 12 s after the last one
(beyond healthd's --hang-timeout). A process is killed only once it lived 2.2 s: healthd
backs off the restart of one that dies within --stable-after (2 s). TAP output."""
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_site as ts  # noqa: E402

RUN = "/run/picsec-two-site/gwA"
CLI = os.path.join(ts.BUILD, "tools", "cli", "picsec")
BUSMON = os.path.join(ts.BUILD, "tools", "busmon", "picsec-busmon")
HOST_B = "198.18.2.10"
PIC = "ms-0/0/0"
BINARY = {"busd": "picsec-busd", "configd": "picsec-configd", "sadb": "picsec-sadb",
          "iked": "picsec-iked", "fwd." + PIC: "picsec-fwd", "healthd": "picsec-healthd"}
KINDS = tuple(BINARY)
DEADLINE = 2.0        # s: everything as it was, after each kill
PATIENCE = 15.0       # s: how long we go on looking after a missed deadline, to say when
STABLE = 2.2          # s: a process lives this long before it is killed (--stable-after 2)
MAX_FAILURES = 5
QUIET = 12.0          # s: at the end, nothing more happens (healthd's --hang-timeout is 10)
BUDGET = 230.0        # s: the kills, all told (the whole test stays under 5 minutes)
INTERVAL = 0.05       # s: between pings


def cli(*words, timeout_ms=600):
    try:
        return subprocess.run([CLI, "--rundir", RUN, "--timeout", str(timeout_ms)] +
                              list(words), capture_output=True, text=True,
                              timeout=timeout_ms / 1000.0 + 5)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(e.cmd, 124, "", "timed out")


class Lines:
    """A process whose stdout lines are collected by a thread, with when they came."""

    def __init__(self, argv, parse):
        self.lines = []
        self.cv = threading.Condition()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL, text=True, bufsize=1)
        self.parse = parse
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            item = self.parse(line)
            if item is not None:
                with self.cv:
                    self.lines.append((time.monotonic(), item))
                    self.cv.notify_all()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _ping_line(line):
    m = re.search(r"icmp_seq=(\d+) ttl=", line)
    return int(m.group(1)) if m else ("end", line) if "transmitted" in line else None


class Pinger(Lines):
    """hostA pings hostB every INTERVAL for at most `seconds`."""

    def __init__(self, seconds):
        super().__init__(["ip", "netns", "exec", "ps-hostA", "stdbuf", "-oL", "ping", "-n",
                          "-i", str(INTERVAL), "-W", "1", "-c", str(int(seconds / INTERVAL)),
                          HOST_B], _ping_line)
        # No -w: with a deadline ping ends at the first ICMP error (an outage's).

    def last_seq(self):
        with self.cv:
            seqs = [s for _, s in self.lines if isinstance(s, int)]
        return max(seqs) if seqs else 0

    def answered_after(self, t0, seq0):
        """When the last ping sent after seq0 was answered after t0, or None."""
        with self.cv:
            for t, s in reversed(self.lines):
                if isinstance(s, int) and s > seq0 and t > t0:
                    return t
        return None

    def summary(self):
        with self.cv:
            ends = [s[1] for _, s in self.lines if isinstance(s, tuple)]
            n = sum(1 for _, s in self.lines if isinstance(s, int))
        return ends[0].strip() if ends else "%d answered (still running)" % n


def _busmon_line(line):
    try:
        e = json.loads(line)
    except ValueError:
        return None
    return e if e.get("type") in ("SaList", "PicStats") else None


class Tap(Lines):
    """picsec-busmon on gwA's bus: the CLI's SaList and PicStats replies."""

    def __init__(self):
        super().__init__([BUSMON, "--rundir", RUN, "--json"], _busmon_line)

    def replies(self, since, timeout=0.5):
        """The SaList and PicStats replies to one CLI after `since` (monotonic); the
        PIC is asked only when sadb lists an SA on it (None then)."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                got = {}
                for t, e in self.lines:
                    if t < since or " > @cli/" not in e["route"]:
                        continue
                    who = e["route"].split(" > ")[1]
                    got.setdefault(who, {})[e["type"]] = e["payload"]
                for who, r in got.items():
                    if "SaList" in r and ("PicStats" in r or not r["SaList"].get("sas")):
                        return r["SaList"], r.get("PicStats")
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, None
                self.cv.wait(left)

    def trim(self, before):
        with self.cv:
            self.lines = [x for x in self.lines if x[0] >= before]


def procs():
    """{kind: [pid, ...]}: the processes of gwA's suite that run, from /proc."""
    out = {k: [] for k in KINDS}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
            with open("/proc/%s/stat" % d) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state == "Z" or not argv or "--rundir" not in argv[:-1] or \
                argv[argv.index("--rundir") + 1] != RUN:
            continue
        for kind, binary in BINARY.items():
            if os.path.basename(argv[0]) == binary:
                out[kind].append(int(d))
    return out


def processes():
    """healthd's list: {name: (state, pid, incarnation)}, or None and why."""
    r = cli("show", "system", "processes", "picsec", "|", "display", "json")
    if r.returncode != 0:
        return None, (r.stderr or r.stdout).strip()
    try:
        info = json.loads(r.stdout)["picsec-process-information"]
    except (ValueError, KeyError) as e:
        return None, "unreadable: %s: %s" % (e, r.stdout[:200])
    return {p["process-name"]: (p["process-state"], p["pid"], p["incarnation"])
            for p in info["process"]}, ""


def config_now():
    a, b = cli("show", "configuration"), cli("show", "system", "commit")
    if a.returncode != 0 or b.returncode != 0:
        return None
    return a.stdout, b.stdout


def check_sas(tap):
    """(a): sadb's SAs, all installed, are what the PIC holds. ok, what was seen."""
    since = time.monotonic()
    r = cli("show", "services", "ipsec-vpn", "ipsec", "statistics")
    if r.returncode != 0:
        return False, "statistics: %s" % (r.stderr or r.stdout).strip()
    sas, pic = tap.replies(since)
    if sas is None:
        return False, "the SaList and PicStats replies were not seen on the bus"
    if not sas.get("sas"):
        return False, "sadb lists no SA"
    listed = {int(s["sa"]["id"]): (s["sa"].get("direction", ""), s["sa"].get("spi", 0),
                                  s.get("installed", False), s.get("pic", ""))
              for s in sas.get("sas", [])}
    held = {int(s["id"]) for s in pic.get("sas", [])}
    seen = "sadb %s; the PIC holds %s" % (
        sorted((d.split("_")[-1].lower(), spi, "installed" if i else "NOT installed", p)
               for d, spi, i, p in listed.values()), sorted(held))
    dirs = {d for d, _, _, _ in listed.values()}
    good = (listed and all(i for _, _, i, _ in listed.values()) and set(listed) == held and
            {"SA_DIRECTION_INBOUND", "SA_DIRECTION_OUTBOUND"} <= dirs)
    return good, seen


def check_processes(before, victim):
    """(d): all up, only the victim new, one process of each kind. ok, what was seen,
    healthd's list. victim: a kind, or a tuple of kinds killed together."""
    victims = victim if isinstance(victim, tuple) else (victim,)
    now, why = processes()
    if now is None:
        return False, "show system processes: %s" % why, None
    running = procs()
    bad = []
    for kind in KINDS:
        if kind not in now:
            bad.append("%s not listed" % kind)
            continue
        state, pid, inc = now[kind]
        if state != "Up":
            bad.append("%s %s" % (kind, state))
        if kind in victims and (pid == before[kind][1] or inc == before[kind][2]):
            bad.append("%s not restarted yet (pid %d, incarnation %s)" % (kind, pid, inc))
        if kind not in victims and (pid, inc) != before[kind][1:]:
            bad.append("%s changed: pid %d -> %d, incarnation %s -> %s" % (
                kind, before[kind][1], pid, before[kind][2], inc))
        if running[kind] != [pid]:
            bad.append("%s: running %s, healthd says %d" % (kind, running[kind], pid))
    return not bad, "; ".join(bad) if bad else "all up", now


def check_all(tap, pinger, base_config, before, victim, t0, seq0, seen):
    """(a) to (d) once; seen gets what each showed. All held, healthd's list."""
    # (b) holds now: a ping sent after the kill answered in the last 0.3 s (one every
    # 50 ms), not merely once before the SAs went.
    t_round = time.monotonic()
    a, seen["a"] = check_sas(tap)
    b = pinger.answered_after(max(t0, t_round - 0.3), seq0)
    seen["b"] = "a ping answered %.2f s after the kill" % (b - t0) if b else \
        "no ping sent after the kill answered lately (last answered: %d)" % pinger.last_seq()
    cfg = config_now()
    c = cfg == base_config
    seen["c"] = "unchanged" if c else "differs: %s" % ("not answered" if cfg is None else cfg)
    d, seen["d"], now = check_processes(before, victim)
    return a and b is not None and c and d, now


def changed(a, b):
    """The processes whose pid or incarnation differ between two of healthd's lists."""
    return ["%s %s -> %s" % (k, a.get(k, ("", 0, ""))[1:], b.get(k, ("", 0, ""))[1:])
            for k in KINDS if a.get(k, ("",))[1:] != b.get(k, ("",))[1:]]


def logs_tail(n=12):
    for name in sorted(os.listdir(RUN)):
        if name.startswith("picsec-") and name.endswith(".log"):
            with open(os.path.join(RUN, name), errors="replace") as f:
                tail = f.readlines()[-n:]
            ts.diag("---- %s/%s (last %d lines)" % (RUN, name, len(tail)))
            ts.diag("".join(tail).rstrip())


class Healthd:
    """Starting healthd again as systemd would: the same command line and environment, in
    ps-gwA, in a session of its own. Our children are reaped when they die."""

    def __init__(self):
        self.children = []

    @staticmethod
    def snapshot(pid):
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = [a for a in f.read().split(b"\0") if a]
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)
        return argv, env

    def gone(self, pid, seconds=2.0):
        for p in self.children:
            if p.pid == pid:
                p.wait(timeout=seconds)
                self.children.remove(p)
                return True
        return ts.wait_for(lambda: not os.path.exists("/proc/%d/cmdline" % pid) or
                           not open("/proc/%d/cmdline" % pid, "rb").read(), seconds, 0.01)

    def start(self, argv, env):
        log = open(os.path.join(RUN, "picsec-healthd.log"), "ab")
        p = subprocess.Popen([b"ip", b"netns", b"exec", b"ps-gwA"] + argv, env=env,
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             start_new_session=True)
        log.close()
        self.children.append(p)
        # two-site down stops what its pids file names (and strays on our rundir anyway).
        with open(os.path.join(RUN, "pids"), "a") as f:
            f.write("picsec-healthd %d\n" % p.pid)
        return p.pid


def wait_settled(tap, seconds=30):
    """Everything up and agreeing, a ping answered: the state before the first kill."""
    state = {}

    def settled():
        now, _ = processes()
        if now is None or any(now.get(k, ("",))[0] != "Up" for k in KINDS):
            return False
        good, _ = check_sas(tap)
        r = ts.node("hostA", "ping", "-c", "1", "-W", "1", HOST_B, check=False)
        state["procs"] = now
        return good and r.returncode == 0
    return ts.wait_for(settled, seconds, 0.2), state.get("procs")


def order(rng, kills):
    """kills victims: shuffled rounds of every kind, so each is killed about as often."""
    out = []
    while len(out) < kills:
        rnd = list(KINDS)
        rng.shuffle(rnd)
        out += rnd
    return out[:kills]


def seq_check(pcap, kill_log):
    """Per SPI, gwA's ESP sequence numbers are unique; for one that repeats, when the
    first repeat was sent and the kills of the 3 s before it."""
    from scapy.all import ESP, IP, PcapReader
    per_spi, first_repeat = {}, {}
    with PcapReader(pcap) as r:
        for p in r:
            if IP in p and p[IP].src == "192.0.2.1" and ESP in p:
                seqs = per_spi.setdefault(p[ESP].spi, [])
                if p[ESP].seq in seqs and p[ESP].spi not in first_repeat:
                    first_repeat[p[ESP].spi] = (float(p.time), p[ESP].seq)
                seqs.append(p[ESP].seq)
    dups = {spi: len(s) - len(set(s)) for spi, s in per_spi.items() if len(s) != len(set(s))}
    for spi, (t, seq) in sorted(first_repeat.items()):
        ts.diag("SPI %08x: number %d again at %s; the kills before: %s" % (
            spi, seq, time.strftime("%H:%M:%S", time.localtime(t)) + ("%.3f" % (t % 1))[1:],
            ", ".join("%d %s %.2f s before" % (n, v, t - k) for k, n, v in kill_log
                      if 0 <= t - k <= 3) or "none"))
    total = sum(len(s) for s in per_spi.values())
    ts.diag("ESP from gwA: %d packets under %d SPIs: %s" % (
        total, len(per_spi), ", ".join("%08x: %d (seq %d..%d)" % (spi, len(s), min(s), max(s))
                                       for spi, s in sorted(per_spi.items()))))
    ts.ok(total > 0 and not dups,
          "no ESP sequence number sent twice under one SPI by gwA (%d packets, %d SPIs%s)" % (
              total, len(per_spi), "; repeated: %s" % dups if dups else ""))


def body(tmp):
    seed = int(os.environ.get("PICSEC_CHAOS_SEED") or random.SystemRandom().randrange(1 << 32))
    kills = int(os.environ.get("PICSEC_CHAOS_KILLS") or 50)
    ts.diag("seed %d (PICSEC_CHAOS_SEED=%d replays this run), %d kills" % (seed, seed, kills))
    rng = random.Random(seed)
    victims = order(rng, kills)

    os.environ["PICSEC_SUPERVISE"] = "gwA"
    try:
        ts.topology("up", "--a", os.path.join(ts.EXAMPLES, "two-site-dynamic-esp-a.conf"),
                    "--b", os.path.join(ts.EXAMPLES, "two-site-dynamic-esp-b.conf"))
    finally:
        del os.environ["PICSEC_SUPERVISE"]
    pcap = os.path.join(tmp, "wan.pcap")
    cap = ts.popen("wan", "tcpdump", "-nqi", "br0", "-B", "16384", "-U", "-w", pcap, "esp")
    tap = Tap()
    hd = Healthd()
    pinger = None
    kill_log = []  # (wall clock, n, victim)
    try:
        settled, before = wait_settled(tap)
        if not ts.ok(settled, "seed %d: gwA under healthd's supervision, every process up, "
                     "SAs installed on the PIC, a ping crosses" % seed):
            logs_tail()
            return
        base_config = config_now()
        ts.ok(base_config is not None, "the committed configuration, before")
        pinger = Pinger(BUDGET + 40)
        times = {k: [] for k in KINDS}
        failures = 0
        born = {k: time.monotonic() - STABLE for k in KINDS}
        start = time.monotonic()
        for n, victim in enumerate(victims, 1):
            if time.monotonic() - start > BUDGET:
                ts.ok(False, "the kills ran out of time: %d of %d in %.0f s" % (
                    n - 1, kills, BUDGET))
                break
            time.sleep(max(rng.uniform(0.3, 0.8), born[victim] + STABLE - time.monotonic()))
            # Nothing changed since the last kill was over (a late effect of it).
            now, why = processes()
            if now is not None and changed(before, now):
                ts.ok(False, "before kill %d: processes changed since kill %d was over: %s" % (
                    n, n - 1, "; ".join(changed(before, now))))
                logs_tail()
                failures += 1
                if failures >= MAX_FAILURES:
                    break
            before = now if now is not None else before
            pid = procs()[victim]
            if len(pid) != 1:
                ts.ok(False, "kill %d: %s runs %d times %s" % (n, victim, len(pid), pid))
                failures += 1
                if failures >= MAX_FAILURES:
                    break
                continue
            pid = pid[0]
            if victim == "healthd":
                argv, env = hd.snapshot(pid)
            seq0 = pinger.last_seq()
            tap.trim(time.monotonic() - 5)
            t0 = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            kill_log.append((time.time(), n, victim))
            if victim == "healthd":
                hd.gone(pid)
                time.sleep(0.1)  # systemd's RestartSec=100ms
                hd.start(argv, env)
            done, seen, last = None, {}, before
            while time.monotonic() - t0 < PATIENCE:
                good, now = check_all(tap, pinger, base_config, before, victim, t0, seq0,
                                      seen)
                if now is not None:
                    last = now
                if good:
                    # All held by the end of this round of checks (it takes ~0.1 s).
                    done = time.monotonic() - t0
                    break
                time.sleep(0.05)
            before = last  # what the next kill starts from, recovered or not
            born[victim] = time.monotonic()
            what = "kill %d/%d: %s (pid %d)" % (n, kills, victim, pid)
            if done is not None and done <= DEADLINE:
                times[victim].append(done)
                ts.ok(True, "%s: all as before in %.2f s" % (what, done))
                continue
            failures += 1
            if done is not None:
                times[victim].append(done)
            ts.ok(False, "%s: %s" % (what, "all as before only after %.2f s" % done
                                     if done is not None else
                                     "not as before after %.0f s" % PATIENCE))
            for k in "abcd":
                ts.diag("(%s) %s" % (k, seen.get(k)))
            logs_tail()
            if failures >= MAX_FAILURES:
                ts.ok(False, "stopped after %d failures" % failures)
                break
        if failures < MAX_FAILURES:
            # Late effects of the last kills: beyond healthd's --hang-timeout (10 s),
            # nothing restarts, (a)-(d) hold and the pings are answered.
            seq0, t0 = pinger.last_seq(), time.monotonic()
            time.sleep(QUIET)
            seen = {}
            good, _ = check_all(tap, pinger, base_config, before, None, t0, seq0, seen)
            with pinger.cv:
                got = sorted(s for t, s in pinger.lines if isinstance(s, int) and t > t0)
            lost = [q for q in range(seq0 + 1, got[-1]) if q not in set(got)] if got else []
            ts.ok(good and got and len(lost) <= 2,
                  "%.0f s after the last kill: all as before, %d pings answered, %d lost%s" % (
                      QUIET, len(got), len(lost), " (%s)" % lost[:40] if lost else ""))
            if not good:
                for k in "abcd":
                    ts.diag("(%s) %s" % (k, seen.get(k)))
                logs_tail()
        ts.diag("recovery, seconds from the kill until (a)-(d) all held:")
        for k in KINDS:
            if times[k]:
                ts.diag("  %-13s n=%2d  min %.2f  median %.2f  max %.2f" % (
                    k, len(times[k]), min(times[k]), statistics.median(times[k]),
                    max(times[k])))
        ts.diag("traffic: %s" % pinger.summary())
        ts.ok(all(len(v) == 1 for v in procs().values()),
              "at the end one process of each kind: %s" % procs())
    finally:
        if pinger is not None:
            pinger.stop()
        tap.stop()
        time.sleep(0.5)
        cap.terminate()
        cap.communicate(timeout=10)
    seq_check(pcap, kill_log)


def main():
    ts.tap_main(body)


if __name__ == "__main__":
    main()
