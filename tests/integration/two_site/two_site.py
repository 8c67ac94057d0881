"""Helpers for the end-to-end tests on deploy/topology/two-site: configurations, the
topology, commands in its namespaces, counters from the CLI, TAP output. Every wait is
bounded in count and time; every address is from the documentation/benchmark ranges."""
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
TOPOLOGY = os.path.join(REPO, "deploy", "topology", "two-site")
EXAMPLES = os.path.join(REPO, "config", "examples")
BUILD = os.environ.get("PICSEC_BUILD", os.path.join(REPO, "build"))
GW_MAC_CMD = "cat /sys/class/net/ge-0-0-0/address"

# The manual SA of each test tunnel, written into both gateways' configurations. Keys are
# test keys, public on purpose.
PROTOCOLS = {
    "esp": dict(block="""protocol esp;
                            spi 16000;
                            authentication {
                                algorithm hmac-sha1-96;
                                key hexadecimal 0123456789abcdef0123456789abcdef01234567;
                            }
                            encryption {
                                algorithm aes-128-cbc;
                                key hexadecimal 00112233445566778899aabbccddeeff;
                            }""", spi=16000),
    "ah": dict(block="""protocol ah;
                            spi 16100;
                            authentication {
                                algorithm hmac-sha-256-128;
                                key hexadecimal 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f;
                            }""", spi=16100),
    "bundle": dict(block="""protocol bundle;
                            spi 16200;
                            auxiliary-spi 16201;
                            authentication {
                                algorithm hmac-md5-96;
                                key hexadecimal 0f0e0d0c0b0a09080706050403020100;
                            }
                            encryption {
                                algorithm 3des-cbc;
                                key hexadecimal 0123456789abcdeffedcba987654321089abcdef01234567;
                            }""", spi=16200),
}

_MANUAL = re.compile(r"protocol esp;.*?encryption \{.*?\}", re.S)

_tap_n = 0
_tap_failed = 0


def ok(cond, what):
    global _tap_n, _tap_failed
    _tap_n += 1
    if not cond:
        _tap_failed += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (_tap_n, what), flush=True)
    return cond


def diag(text):
    for line in str(text).splitlines():
        print("# " + line, flush=True)


def finish():
    print("1..%d" % _tap_n, flush=True)
    sys.exit(1 if _tap_failed else 0)


LOCK = "/run/lock/picsec-two-site.lock"


def _take_lock(seconds=900):
    """The topology has fixed namespace names: one test at a time holds it. Waits (bounded)
    for another test, or another checkout's, to finish; the lock goes with the process."""
    import fcntl
    os.makedirs(os.path.dirname(LOCK), exist_ok=True)
    f = open(LOCK, "a")
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise RuntimeError("%s held for %d s by another run" % (LOCK, seconds))
            time.sleep(1)


def tap_main(body):
    """Runs body(tmpdir) as one TAP test program: a step that raises fails the test, and
    the topology is taken down whatever happened. Holds the topology's lock throughout."""
    lock = _take_lock()
    with tempfile.TemporaryDirectory(prefix="picsec-two-site-") as tmp:
        try:
            body(tmp)
        except Exception as e:  # a failed step: report it, clean up, fail
            ok(False, "the test ran to its end: %s" % e)
        finally:
            topology("down")
    lock.close()
    finish()


def config_for(site, proto, tmpdir):
    """The two-site example of site ('a' or 'b') with the SA of proto; its path."""
    with open(os.path.join(EXAMPLES, "two-site-manual-esp-%s.conf" % site)) as f:
        text = f.read()
    text = _MANUAL.sub(lambda m: PROTOCOLS[proto]["block"], text, count=1)
    path = os.path.join(tmpdir, "site-%s-%s.conf" % (site, proto))
    with open(path, "w") as f:
        f.write(text)
    return path


def run(args, timeout=60, check=True, **kw):
    env = dict(os.environ, PICSEC_BUILD=BUILD)
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, **kw)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s%s" % (" ".join(args), r.returncode, r.stdout,
                                                  r.stderr))
    return r


def topology(*args, timeout=90):
    return run([TOPOLOGY] + list(args), timeout=timeout)


def node(name, *cmd, timeout=30, check=True):
    return run([TOPOLOGY, "exec", name] + list(cmd), timeout=timeout, check=check)


def popen(name, *cmd):
    env = dict(os.environ, PICSEC_BUILD=BUILD)
    return subprocess.Popen([TOPOLOGY, "exec", name] + list(cmd), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def cli_json(gw, *words):
    r = node(gw, os.path.join(BUILD, "tools", "cli", "picsec"), *words, "|", "display",
             "json")
    return json.loads(r.stdout)


def _sum(obj, key):
    if isinstance(obj, dict):
        return sum((v if k == key and isinstance(v, int) else _sum(v, key))
                   for k, v in obj.items())
    if isinstance(obj, list):
        return sum(_sum(v, key) for v in obj)
    return 0


def counters(gw):
    """Every counter of the gateway's statistics, summed over its service sets and SAs."""
    stats = cli_json(gw, "show", "services", "ipsec-vpn", "ipsec", "statistics")
    keys = set()

    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if isinstance(v, int):
                    keys.add(k)
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(stats)
    return {k: _sum(stats, k) for k in keys}


def sa_states(gw):
    sas = cli_json(gw, "show", "services", "ipsec-vpn", "ipsec", "security-associations",
                   "detail")
    states = []

    def walk(o):
        if isinstance(o, dict):
            if "sa-state" in o:
                states.append(o["sa-state"])
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(sas)
    return states


def wait_for(pred, seconds, step=0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


RECEIVER = r"""
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.2.10", 9000)); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.settimeout(30)
h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest())
"""

SENDER = r"""
import hashlib, os, socket, sys, time
total, seconds = int(sys.argv[1]), float(sys.argv[2])
data = os.urandom(total)
c = socket.create_connection(("198.18.2.10", 9000), timeout=10); c.settimeout(30)
chunk = 65536; t0 = time.monotonic()
for i in range(0, total, chunk):
    c.sendall(data[i:i + chunk])
    # paced so that the transfer lasts about `seconds`
    ahead = t0 + seconds * (i + chunk) / total - time.monotonic()
    if ahead > 0: time.sleep(ahead)
c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
print(total, hashlib.sha256(data).hexdigest())
"""


def transfer(total, seconds=0.0, during=None):
    """A TCP transfer of total random bytes from hostA to hostB; during() runs meanwhile.
    True when every byte arrived intact."""
    rx = popen("hostB", "/usr/bin/python3", "-c", RECEIVER)
    time.sleep(0.3)
    tx = popen("hostA", "/usr/bin/python3", "-c", SENDER, str(total), str(seconds))
    if during is not None:
        during()
    try:
        tout, terr = tx.communicate(timeout=60)
        rout, rerr = rx.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        tx.kill()
        rx.kill()
        diag("transfer timed out")
        return False
    if tout.split() != rout.split() or not tout:
        diag("sent: %s %s\nreceived: %s %s" % (tout, terr, rout, rerr))
        return False
    return True


class Busmon:
    """picsec-busmon --json on a gateway's bus (one topic prefix, or all): the messages
    it saw, each with "t", its arrival time (epoch seconds)."""

    def __init__(self, gw, topic=None):
        args = ["--rundir", "/run/picsec-two-site/" + gw, "--json"]
        if topic is not None:
            args += ["--topic", topic]
        self.proc = popen(gw, os.path.join(BUILD, "tools", "busmon", "picsec-busmon"), *args)
        time.sleep(0.5)  # subscribed

    def stop(self):
        import datetime
        self.proc.send_signal(15)
        out, _ = self.proc.communicate(timeout=10)
        msgs = []
        for line in out.splitlines():
            try:
                m = json.loads(line)
            except ValueError:
                continue
            m["t"] = datetime.datetime.strptime(m["received"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            msgs.append(m)
        return msgs
