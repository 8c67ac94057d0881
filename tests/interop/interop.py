#!/usr/bin/python3
"""Interoperability: picsec-iked on gwA against strongSwan's charon (5.9.8, kernel-libipsec)
on gwB of deploy/topology/two-site. One scenario per run (its name is the argument):

  SET-picsec   picsec initiates (establish-tunnels immediately), charon responds
  SET-charon   charon initiates (swanctl --initiate), picsec responds (responder-only)
  rekey-child  charon rekeys the Child SA (swanctl --rekey --child), picsec responded
  rekey-ike    charon rekeys the IKE SA (swanctl --rekey --ike), charon initiated

SET is one of the proposal sets in SETS. Each scenario checks that the IKE SA is up on both
sides under the same SPIs and algorithms, that the Child SAs mirror each other, that pings
cross both ways through the tunnel, that the wan carries only IKE and ESP in UDP/4500
between the gateways (libipsec always encapsulates; charon's encap = yes fakes the NAT
detection hash, so picsec must do NAT traversal) under the negotiated SPIs, and that a
Delete from either side removes the SAs on both. The rekey scenarios check the new SPIs
on both sides and on the wire, and the traffic afterwards.

Needs root, the fixed namespace names, /usr/lib/ipsec/charon and swanctl. TAP output.
PICSEC_INTEROP_KEEP=DIR keeps the logs and captures of the run in DIR/SCENARIO."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration", "two_site"))
import two_site as ts  # noqa: E402

CHARON = "/usr/lib/ipsec/charon"
SWANCTL = shutil.which("swanctl") or "/usr/sbin/swanctl"
CLI = os.path.join(ts.BUILD, "tools", "cli", "picsec")
RUN = "/run/picsec-two-site"
CONN, CHILD = "picsec", "net"
PSK = "picsec interop test key, public on purpose"
GW_A, GW_B = "192.0.2.1", "192.0.2.2"
HOST_A, HOST_B = "198.18.1.10", "198.18.2.10"

# The proposal sets: picsec's Junos statements, charon's proposals, and the algorithm names
# charon's --list-sas --raw shows for what was negotiated.
SETS = {
    # ike proposal aes-128-cbc/sha-256/group14; esp aes-128-cbc + hmac-sha-256-128, PFS 14
    "modp2048": dict(
        IKE_ENC="aes-128-cbc", IKE_AUTH="sha-256", IKE_DH="group14",
        ESP_ENC="aes-128-cbc", ESP_AUTH="hmac-sha-256-128", PFS="group14",
        swan_ike="aes128-sha256-modp2048", swan_esp="aes128-sha256-modp2048",
        ike_algs={"encr-alg": "AES_CBC", "encr-keysize": "128",
                  "integ-alg": "HMAC_SHA2_256_128", "prf-alg": "PRF_HMAC_SHA2_256",
                  "dh-group": "MODP_2048"},
        esp_algs={"encr-alg": "AES_CBC", "encr-keysize": "128",
                  "integ-alg": "HMAC_SHA2_256_128"},
        pfs="MODP_2048"),
    # ike proposal aes-256-cbc/sha-384/group20; esp aes-256-cbc + hmac-sha-256-128, PFS 20
    "ecp384": dict(
        IKE_ENC="aes-256-cbc", IKE_AUTH="sha-384", IKE_DH="group20",
        ESP_ENC="aes-256-cbc", ESP_AUTH="hmac-sha-256-128", PFS="group20",
        swan_ike="aes256-sha384-ecp384", swan_esp="aes256-sha256-ecp384",
        ike_algs={"encr-alg": "AES_CBC", "encr-keysize": "256",
                  "integ-alg": "HMAC_SHA2_384_192", "prf-alg": "PRF_HMAC_SHA2_384",
                  "dh-group": "ECP_384"},
        esp_algs={"encr-alg": "AES_CBC", "encr-keysize": "256",
                  "integ-alg": "HMAC_SHA2_256_128"},
        pfs="ECP_384"),
    # picsec's additions to Junos: aes-128-gcm for IKE (sha-256 is then the PRF only) and
    # group31 (Curve25519); esp aes-128-gcm (16-octet ICV), PFS group31
    "x25519": dict(
        IKE_ENC="aes-128-gcm", IKE_AUTH="sha-256", IKE_DH="group31",
        ESP_ENC="aes-128-gcm", ESP_AUTH=None, PFS="group31",
        swan_ike="aes128gcm16-prfsha256-x25519", swan_esp="aes128gcm16-x25519",
        ike_algs={"encr-alg": "AES_GCM_16", "encr-keysize": "128",
                  "prf-alg": "PRF_HMAC_SHA2_256", "dh-group": "CURVE_25519"},
        esp_algs={"encr-alg": "AES_GCM_16", "encr-keysize": "128"},
        pfs="CURVE_25519"),
}


# ----------------------------------------------------------------------------- picsec side

def picsec_config(tmp, s, picsec_starts):
    with open(os.path.join(HERE, "picsec-gwA.conf.in")) as f:
        text = f.read()
    auth = ("                authentication-algorithm %s;" % s["ESP_AUTH"]
            if s["ESP_AUTH"] else "")
    fields = dict(IKE_ENC=s["IKE_ENC"], IKE_AUTH=s["IKE_AUTH"], IKE_DH=s["IKE_DH"],
                  ESP_ENC=s["ESP_ENC"], PFS=s["PFS"], PSK=PSK, ESP_AUTH_LINE=auth,
                  ESTABLISH="immediately" if picsec_starts else "responder-only")
    for k, v in fields.items():
        text = text.replace("@%s@" % k, v)
    assert not re.search(r"@[A-Z_]+@", text), "picsec-gwA.conf.in: a field is left"
    path = os.path.join(tmp, "picsec-gwA.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def walk(o, key):
    """Every dict inside o that has key."""
    if isinstance(o, dict):
        if key in o:
            yield o
        for v in o.values():
            yield from walk(v, key)
    elif isinstance(o, list):
        for v in o:
            yield from walk(v, key)


def picsec_ike():
    """gwA's IKE SAs (detail), as the CLI's JSON has them."""
    return list(walk(ts.cli_json("gwA", "show", "services", "ipsec-vpn", "ike",
                                 "security-associations", "detail"), "ike-sa-state"))


def picsec_matured():
    return [s for s in picsec_ike() if s["ike-sa-state"] == "matured"]


def picsec_spis():
    """gwA's installed IPsec SAs' SPIs by direction."""
    out = {"inbound": [], "outbound": []}
    sas = ts.cli_json("gwA", "show", "services", "ipsec-vpn", "ipsec",
                      "security-associations", "detail")
    for o in walk(sas, "sa-spi"):
        if o.get("sa-state") == "installed":
            out.setdefault(o.get("sa-direction"), []).append(int(o["sa-spi"]))
    return out


def picsec_clear():
    ts.node("gwA", CLI, "clear", "services", "ipsec-vpn", "ike", "security-associations")


def cookies(sa):
    return (sa["ike-sa-initiator-cookie"].lower(), sa["ike-sa-responder-cookie"].lower())


# ----------------------------------------------------------------------------- charon side

def vici_parse(text):
    """swanctl --raw output (one event or reply a line: `name {k=v list [a b] sub {...}}`)
    as a list of (name, dict)."""
    tokens = re.findall(r"[{}\[\]]|[^\s{}\[\]]+", text)
    pos = 0

    def section():
        nonlocal pos
        d = {}
        while pos < len(tokens) and tokens[pos] != "}":
            t = tokens[pos]
            pos += 1
            if "=" in t:
                k, v = t.split("=", 1)
                d[k] = v
            elif pos < len(tokens) and tokens[pos] == "{":
                pos += 1
                d[t] = section()
                pos += 1  # }
            elif pos < len(tokens) and tokens[pos] == "[":
                pos += 1
                items = []
                while pos < len(tokens) and tokens[pos] != "]":
                    items.append(tokens[pos])
                    pos += 1
                pos += 1  # ]
                d[t] = items
        return d

    out = []
    while pos < len(tokens):
        name = tokens[pos]
        pos += 1
        # "list-sa event {...}": two words before the brace
        while pos < len(tokens) and tokens[pos] != "{":
            name += " " + tokens[pos]
            pos += 1
        pos += 1
        out.append((name, section()))
        pos += 1
    return out


class Charon:
    """One charon (kernel-libipsec) in ps-gwB with its files in DIR/charon."""

    def __init__(self, tmp, s):
        self.dir = os.path.join(tmp, "charon")
        self.set = s
        self.proc = None
        self.ready_at = 0.0
        self.vici = os.path.join(self.dir, "charon.vici")

    def render(self, name, fields):
        with open(os.path.join(HERE, name + ".in")) as f:
            text = f.read()
        for k, v in fields.items():
            text = text.replace("@%s@" % k, v)
        assert not re.search(r"@[A-Z_]+@", text), "%s.in: a field is left" % name
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def start(self):
        # swanctl --file DIR/swanctl.conf looks for these (empty: no warnings).
        for sub in ("run", "x509", "x509ca", "x509aa", "x509ocsp", "x509crl", "x509ac",
                    "pubkey", "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.render("strongswan.conf", dict(DIR=self.dir))
        self.render("swanctl.conf", dict(CONN=CONN, CHILD=CHILD, PSK=PSK,
                                         IKE_PROPOSALS=self.set["swan_ike"],
                                         ESP_PROPOSALS=self.set["swan_esp"]))
        out = open(os.path.join(self.dir, "charon.out"), "w")
        # ip netns exec gives a private mount namespace: /run there becomes DIR/run (Debian's
        # charon has /run/charon.pid compiled in). Every exec keeps the pid.
        script = 'mount --bind "$1" /run && STRONGSWAN_CONF="$2" exec "$3"'
        self.proc = subprocess.Popen(
            [ts.TOPOLOGY, "exec", "gwB", "sh", "-c", script, "sh",
             os.path.join(self.dir, "run"), os.path.join(self.dir, "strongswan.conf"),
             CHARON], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
        out.close()

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("charon exited (status %s)\n%s" % (self.proc.returncode,
                                                                      self.log_tail()))
            return (os.path.exists(self.vici) and
                    self.swanctl("--stats", check=False).returncode == 0)
        if not ts.wait_for(ready, 10, 0.2):
            raise RuntimeError("charon's vici socket did not answer in 10 s\n" +
                               self.log_tail())
        self.swanctl("--load-all", "--file", os.path.join(self.dir, "swanctl.conf"))
        self.ready_at = time.time()

    def swanctl(self, *args, timeout=30, check=True):
        return ts.node("gwB", "env", "STRONGSWAN_CONF=" +
                       os.path.join(self.dir, "strongswan.conf"), SWANCTL, *args, "--uri",
                       "unix://" + self.vici, timeout=timeout, check=check)

    def sas(self):
        """charon's IKE SAs of CONN: a list of dicts (--list-sas --raw), each with its
        child-sas."""
        r = self.swanctl("--list-sas", "--raw", check=False)
        out = []
        for name, d in vici_parse(r.stdout):
            if name.startswith("list-sa") and CONN in d:
                out.append(d[CONN])
        return out

    def established(self):
        return [s for s in self.sas() if s.get("state") == "ESTABLISHED"]

    def children(self, sa):
        return [c for c in sa.get("child-sas", {}).values()
                if isinstance(c, dict) and c.get("name") == CHILD]

    def installed(self):
        """The INSTALLED Child SAs of every established IKE SA."""
        return [c for s in self.established() for c in self.children(s)
                if c.get("state") == "INSTALLED"]

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def log_mark(self):
        p = os.path.join(self.dir, "charon.log")
        return os.path.getsize(p) if os.path.exists(p) else 0

    def log_since(self, mark):
        p = os.path.join(self.dir, "charon.log")
        if not os.path.exists(p):
            return []
        with open(p, "rb") as f:
            f.seek(mark)
            return f.read().decode(errors="replace").splitlines()

    def log_tail(self, n=40):
        text = ""
        for name in ("charon.out", "charon.log"):
            p = os.path.join(self.dir, name)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    lines = f.read().splitlines()[-n:]
                text += "---- %s\n%s\n" % (name, "\n".join(lines))
        return text


def spi_hex(v):
    return int(v, 16)


# ----------------------------------------------------------------------------- traffic

def pings(src, dst, count=3):
    r = ts.node(src, "ping", "-c", str(count), "-i", "0.2", "-W", "1", dst, check=False,
                timeout=20)
    return r.returncode == 0


def both_pings():
    return pings("hostA", HOST_B) and pings("hostB", HOST_A)


def wan_packets(pcap):
    """The capture's IPv4 packets as (src, dst, kind, detail, ...): kind ike (detail: the
    SPI pair in hex, then the port and the exchange type), esp (detail: the SPI), keepalive,
    or other (detail: a summary); the capture time last."""
    from scapy.all import IP, UDP, rdpcap
    out = []
    for p in rdpcap(pcap):
        # IGMP is the kernel's own link chatter on the bridge (a namespace's interface
        # joining a group), not traffic between the gateways.
        if IP not in p or p[IP].proto == 2:
            continue
        src, dst, at = p[IP].src, p[IP].dst, float(p.time)
        ports = (p[UDP].sport, p[UDP].dport) if UDP in p else None
        data = bytes(p[UDP].payload) if UDP in p else b""
        if ports == (500, 500) and len(data) >= 28:
            out.append((src, dst, "ike", (data[0:8].hex(), data[8:16].hex()), 500,
                        data[18], at))
        elif ports == (4500, 4500) and data == b"\xff":
            out.append((src, dst, "keepalive", None, 4500, None, at))
        elif ports == (4500, 4500) and len(data) >= 32 and data[0:4] == bytes(4):
            out.append((src, dst, "ike", (data[4:12].hex(), data[12:20].hex()), 4500,
                        data[22], at))
        elif ports == (4500, 4500) and len(data) >= 8:
            out.append((src, dst, "esp", int.from_bytes(data[0:4], "big"), 4500, None, at))
        else:
            out.append((src, dst, "other", p.summary(), None, None, at))
    return out


class Capture:
    def __init__(self, tmp, name):
        self.pcap = os.path.join(tmp, name + ".pcap")
        self.proc = ts.popen("wan", "tcpdump", "-nqi", "br0", "-B", "16384", "-U", "-w",
                             self.pcap, "ip")
        time.sleep(1)

    def stop(self):
        time.sleep(0.5)
        self.proc.terminate()
        try:
            self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate(timeout=5)
        return wan_packets(self.pcap)


def check_wan(tag, pkts, a_out, b_out):
    """Only IKE, NAT keepalives and ESP in UDP between the gateways; ESP under the SPIs
    the sides show (a_out: what gwA sends under, b_out: what gwB sends under), both ways."""
    gws = {GW_A, GW_B}
    other = [p for p in pkts if p[2] == "other" or {p[0], p[1]} != gws]
    esp = {(p[0], p[3]) for p in pkts if p[2] == "esp" and {p[0], p[1]} == gws}
    want = {(GW_A, s) for s in a_out} | {(GW_B, s) for s in b_out}
    ts.ok(not other, "%s: the wan carried only IKE and ESP in UDP/4500 between the gateways%s"
          % (tag, "" if not other else ": also %s" % other[:3]))
    ts.ok(esp and esp <= want and {GW_A, GW_B} <= {e[0] for e in esp},
          "%s: ESP both ways under the negotiated SPIs: seen %s, negotiated %s" %
          (tag, sorted((a, "%08x" % s) for a, s in esp),
           sorted((a, "%08x" % s) for a, s in want)))
    return esp


# ----------------------------------------------------------------------------- checks

def check_whole(tag, pkts, ready_at):
    """The whole run's wan: only IKE, NAT keepalives and ESP in UDP/4500 between the
    gateways; on port 500 only IKE_SA_INIT (34), everything after it on 4500. Before
    charon listened (ready_at), gwB's kernel may have refused gwA's first IKE_SA_INIT with
    an ICMP port unreachable: that is the harness's start, not picsec's doing."""
    gws = {GW_A, GW_B}
    early = [p for p in pkts if p[2] == "other" and p[6] < ready_at and p[0] == GW_B and
             "port-unreachable" in p[3]]
    if early:
        ts.diag("%s: %d ICMP port unreachable from gwB before charon listened (ignored)" %
                (tag, len(early)))
    pkts = [p for p in pkts if p not in early]
    other = [p for p in pkts if p[2] == "other" or {p[0], p[1]} != gws]
    on500 = sorted({p[5] for p in pkts if p[2] == "ike" and p[4] == 500} - {34})
    kinds = {}
    for p in pkts:
        kinds[p[2]] = kinds.get(p[2], 0) + 1
    ts.ok(not other and pkts, "%s: the whole run's wan capture holds only IKE and ESP in "
          "UDP/4500 between the gateways (%s)%s" %
          (tag, ", ".join("%s %d" % kv for kv in sorted(kinds.items())),
           "" if not other else ": also %s" % other[:3]))
    ts.ok(not on500, "%s: on port 500 only IKE_SA_INIT, the rest of IKE on 4500%s" %
          (tag, "" if not on500 else ": also exchange types %s on 500" % on500))


def up_both(swan, seconds=30):
    """One matured IKE SA on gwA, an established IKE SA with an installed Child SA on
    charon, two installed IPsec SAs on gwA."""
    return ts.wait_for(lambda: len(picsec_matured()) == 1 and len(swan.installed()) == 1 and
                       len(picsec_spis()["inbound"]) == 1 and
                       len(picsec_spis()["outbound"]) == 1, seconds, 0.5)


def check_up(tag, swan, s, picsec_initiated):
    """The IKE SA and the Child SA as both sides see them; returns (charon's IKE SA,
    charon's Child SA) or None."""
    up = up_both(swan)
    ts.ok(up, "%s: the IKE SA is up on both sides (gwA matured, charon ESTABLISHED with "
          "its Child SA INSTALLED)" % tag)
    if not up:
        diag_state(swan)
        return None
    a = picsec_matured()[0]
    c = swan.established()[0]
    child = swan.installed()[0]
    ts.ok(cookies(a) == (c["initiator-spi"].lower(), c["responder-spi"].lower()),
          "%s: the same IKE SPIs on both sides: gwA %s/%s, charon %s/%s" %
          (tag, cookies(a)[0], cookies(a)[1], c["initiator-spi"], c["responder-spi"]))
    roles = (a.get("ike-sa-role"), c.get("initiator") == "yes")
    ts.ok(roles == (("Initiator", False) if picsec_initiated else ("Responder", True)),
          "%s: the roles: gwA %s, charon %s" %
          (tag, roles[0], "initiator" if roles[1] else "responder"))
    got = {k: c.get(k) for k in s["ike_algs"]}
    ts.ok(got == s["ike_algs"] and ("integ-alg" in got or "integ-alg" not in c),
          "%s: charon's IKE SA has the proposal: %s" % (tag, {k: c.get(k) for k in (
              "encr-alg", "encr-keysize", "integ-alg", "prf-alg", "dh-group")}))
    got = {k: child.get(k) for k in s["esp_algs"]}
    ts.ok(got == s["esp_algs"] and child.get("protocol") == "ESP" and
          child.get("mode") == "TUNNEL" and child.get("encap") == "yes",
          "%s: charon's Child SA: ESP %s, mode %s, encap %s" %
          (tag, {k: child.get(k) for k in ("encr-alg", "encr-keysize", "integ-alg")},
           child.get("mode"), child.get("encap")))
    ts.ok(c.get("local-port") == "4500" and c.get("remote-port") == "4500" and
          a.get("ike-sa-local-port") == 4500 and a.get("ike-sa-remote-port") == 4500,
          "%s: NAT traversal: IKE on 4500 both sides (charon %s -> %s, gwA %s -> %s)" %
          (tag, c.get("local-port"), c.get("remote-port"), a.get("ike-sa-local-port"),
           a.get("ike-sa-remote-port")))
    ts.ok(a.get("ike-sa-nat-detected") is True,
          "%s: gwA's show says NAT traversal is on (ike-sa-nat-detected %s)" %
          (tag, a.get("ike-sa-nat-detected")))
    p = picsec_spis()
    ts.ok(p["outbound"] == [spi_hex(child["spi-in"])] and
          p["inbound"] == [spi_hex(child["spi-out"])],
          "%s: the Child SA's SPIs mirror each other: gwA in %s out %s, charon in %s out %s"
          % (tag, ["%08x" % x for x in p["inbound"]], ["%08x" % x for x in p["outbound"]],
             child["spi-in"], child["spi-out"]))
    return c, child


def diag_state(swan):
    try:
        ts.diag("gwA IKE SAs: %s" % [(s["ike-sa-state"], cookies(s)) for s in picsec_ike()])
        ts.diag("gwA IPsec SAs: %s" % picsec_spis())
    except Exception as e:  # the CLI failing is worth seeing too
        ts.diag("gwA: %s" % e)
    r = swan.swanctl("--list-sas", check=False)
    ts.diag("charon --list-sas:\n" + r.stdout + r.stderr)


def charon_route():
    """charon's route into ipsec0 for site A (kernel-netlink, table 220); made by hand
    when absent (reported)."""
    route = ts.node("gwB", "ip", "route", "show", "table", "220", check=False).stdout
    if "198.18.1.0/24" in route and "ipsec0" in route:
        return
    ts.diag("gwB: no route to 198.18.1.0/24 via ipsec0 in table 220 (%r): adding it" %
            route.strip())
    ts.node("gwB", "ip", "route", "replace", "198.18.1.0/24", "dev", "ipsec0", "table",
            "220")
    rules = ts.node("gwB", "ip", "rule", "show", check=False).stdout
    if "lookup 220" not in rules:
        ts.node("gwB", "ip", "rule", "add", "pref", "220", "lookup", "220")


def traffic(tmp, tag, swan, child):
    """Pings both ways during a wan capture: only IKE and ESP in UDP, under the SPIs."""
    charon_route()
    cap = Capture(tmp, "wan-" + tag)
    crossed = both_pings()
    pkts = cap.stop()
    ts.ok(crossed, "%s: pings cross both ways, hostA %s <-> hostB %s" % (tag, HOST_A, HOST_B))
    p = picsec_spis()
    check_wan(tag, pkts, p["outbound"], [spi_hex(child["spi-out"])])
    return pkts


def gone(swan, ike_spis, child_spis):
    """Neither side holds the IKE SA with these SPIs or the Child SA with these SPIs."""
    def now():
        a_ike = [cookies(s) for s in picsec_ike()]
        c_ike = [(s.get("initiator-spi", "").lower(), s.get("responder-spi", "").lower())
                 for s in swan.sas()]
        p = picsec_spis()
        a_child = set(p["inbound"]) | set(p["outbound"])
        c_child = {spi_hex(c[k]) for s in swan.sas() for c in swan.children(s)
                   for k in ("spi-in", "spi-out") if k in c}
        return dict(gwA_ike=ike_spis in a_ike, charon_ike=ike_spis in c_ike,
                    gwA_child=bool(a_child & child_spis),
                    charon_child=bool(c_child & child_spis))
    ts.wait_for(lambda: not any(now().values()), 15, 0.5)
    return now()


def delete_checks(tag, swan, picsec_starts):
    """A Delete from gwA (clear), then, with a new IKE SA, from charon (terminate): both
    sides let go of the SAs each time."""
    c = swan.established()[0]
    child = swan.installed()[0]
    ike = (c["initiator-spi"].lower(), c["responder-spi"].lower())
    spis = {spi_hex(child["spi-in"]), spi_hex(child["spi-out"])}
    picsec_clear()
    left = gone(swan, ike, spis)
    ts.ok(not any(left.values()), "%s: after clear on gwA, neither side holds the IKE SA "
          "%s/%s or its Child SA (still held: %s)" %
          (tag, ike[0], ike[1], [k for k, v in left.items() if v] or "none"))
    if picsec_starts:
        ts.ok(up_both(swan), "%s: gwA establishes a new IKE SA with charon after the clear"
              % tag)
    else:
        ts.ok(not picsec_ike() and not swan.sas(),
              "%s: no IKE SA is left on either side (gwA responds only)" % tag)
        r = swan.swanctl("--initiate", "--child", CHILD, "--timeout", "20", timeout=30,
                         check=False)
        ts.ok(r.returncode == 0 and up_both(swan),
              "%s: charon establishes a new IKE SA with gwA" % tag)
        if r.returncode != 0:
            ts.diag(r.stdout + r.stderr)
    if not swan.established() or not swan.installed():
        diag_state(swan)
        return
    c = swan.established()[0]
    child = swan.installed()[0]
    ike = (c["initiator-spi"].lower(), c["responder-spi"].lower())
    spis = {spi_hex(child["spi-in"]), spi_hex(child["spi-out"])}
    r = swan.swanctl("--terminate", "--ike", CONN, "--timeout", "10", timeout=20,
                     check=False)
    if r.returncode != 0:
        ts.diag("swanctl --terminate: exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    left = gone(swan, ike, spis)
    ts.ok(r.returncode == 0 and not any(left.values()),
          "%s: after swanctl --terminate --ike on charon, neither side holds the IKE SA "
          "%s/%s or its Child SA (still held: %s)" %
          (tag, ike[0], ike[1], [k for k, v in left.items() if v] or "none"))


def establish(tag, swan, picsec_starts):
    if picsec_starts:
        return
    r = swan.swanctl("--initiate", "--child", CHILD, "--timeout", "20", timeout=30,
                     check=False)
    ts.ok(r.returncode == 0, "%s: swanctl --initiate --child %s succeeds" % (tag, CHILD))
    if r.returncode != 0:
        ts.diag(r.stdout[-3000:] + r.stderr[-2000:])


# ----------------------------------------------------------------------------- scenarios

def scenario_basic(tmp, swan, s, tag, picsec_starts):
    establish(tag, swan, picsec_starts)
    got = check_up(tag, swan, s, picsec_starts)
    if got is None:
        return
    traffic(tmp, tag, swan, got[1])
    delete_checks(tag, swan, picsec_starts)


def scenario_rekey_child(tmp, swan, s, tag):
    got = check_up(tag, swan, s, True)
    if got is None:
        return
    c, old = got
    traffic(tmp, tag + " before", swan, old)
    old_spis = {spi_hex(old["spi-in"]), spi_hex(old["spi-out"])}
    old_ike = (c["initiator-spi"].lower(), c["responder-spi"].lower())
    mark = swan.log_mark()
    r = swan.swanctl("--rekey", "--child", CHILD, timeout=20, check=False)
    ts.ok(r.returncode == 0, "%s: swanctl --rekey --child %s succeeds" % (tag, CHILD))

    def rekeyed():
        inst = swan.installed()
        return (len(inst) == 1 and
                not ({spi_hex(inst[0]["spi-in"]), spi_hex(inst[0]["spi-out"])} & old_spis))
    ts.ok(ts.wait_for(rekeyed, 20, 0.5),
          "%s: charon holds one Child SA, under new SPIs (old %s)" %
          (tag, sorted("%08x" % x for x in old_spis)))
    if not swan.installed():
        diag_state(swan)
        return
    new = swan.installed()[0]
    ts.ok(ts.wait_for(lambda: picsec_spis()["outbound"] == [spi_hex(new["spi-in"])] and
                      picsec_spis()["inbound"] == [spi_hex(new["spi-out"])], 10, 0.5),
          "%s: gwA holds only the new Child SA: %s, charon in %s out %s" %
          (tag, picsec_spis(), new["spi-in"], new["spi-out"]))
    lines = swan.log_since(mark)
    answer = [ln for ln in lines if "parsed CREATE_CHILD_SA response" in ln]
    fallback = [ln for ln in lines if FALLBACK.search(ln)]
    ts.ok(answer and not fallback and all(rekey_answer(ln) for ln in answer),
          "%s: gwA answered charon's CREATE_CHILD_SA (rekey) with a new Child SA: %s%s" %
          (tag, [ln.split("] ", 1)[-1] for ln in answer],
           "" if not fallback else "; charon: %s" % [ln.split("] ", 1)[-1]
                                                    for ln in fallback]))
    ts.ok(new.get("dh-group") == s["pfs"],
          "%s: the rekey used PFS %s (charon: %s)" % (tag, s["pfs"], new.get("dh-group")))
    ts.ok([(x["initiator-spi"].lower(), x["responder-spi"].lower())
           for x in swan.established()] == [old_ike] and
          [cookies(x) for x in picsec_matured()] == [old_ike],
          "%s: the IKE SA stays the same on both sides" % tag)
    sa = picsec_matured()
    ts.ok(sa and sa[0].get("ike-sa-ipsec-sa-rekeys", 0) >= 1,
          "%s: gwA counts the Child SA rekey: %s" % (tag, {k: sa[0].get(k) for k in (
              "ike-sa-ipsec-sa-rekeys", "ike-sa-ipsec-sa-created",
              "ike-sa-ipsec-sa-deleted")} if sa else "no IKE SA"))
    traffic(tmp, tag + " after", swan, new)
    ts.ok(ts.transfer(1 << 20), "%s: 1 MiB over TCP hostA -> hostB arrives intact" % tag)


def scenario_rekey_ike(tmp, swan, s, tag):
    establish(tag, swan, False)
    got = check_up(tag, swan, s, False)
    if got is None:
        return
    c, child = got
    traffic(tmp, tag + " before", swan, child)
    old_ike = (c["initiator-spi"].lower(), c["responder-spi"].lower())
    child_spis = (child["spi-in"], child["spi-out"])
    mark = swan.log_mark()
    r = swan.swanctl("--rekey", "--ike", CONN, timeout=20, check=False)
    ts.ok(r.returncode == 0, "%s: swanctl --rekey --ike %s succeeds" % (tag, CONN))

    def rekeyed():
        e = swan.established()
        return (len(swan.sas()) == 1 and len(e) == 1 and
                (e[0]["initiator-spi"].lower(), e[0]["responder-spi"].lower()) != old_ike)
    ts.ok(ts.wait_for(rekeyed, 20, 0.5),
          "%s: charon holds one IKE SA, under new SPIs (old %s/%s)" % (tag, *old_ike))
    if not swan.established():
        diag_state(swan)
        return
    n = swan.established()[0]
    new_ike = (n["initiator-spi"].lower(), n["responder-spi"].lower())
    lines = swan.log_since(mark)
    answer = [ln for ln in lines if "parsed CREATE_CHILD_SA response" in ln]
    fallback = [ln for ln in lines if FALLBACK.search(ln)]
    ts.ok(answer and not fallback and all(rekey_answer(ln) for ln in answer),
          "%s: gwA answered charon's CREATE_CHILD_SA (IKE SA rekey) with a new IKE SA: %s%s"
          % (tag, [ln.split("] ", 1)[-1] for ln in answer],
             "" if not fallback else "; charon: %s" % [ln.split("] ", 1)[-1]
                                                      for ln in fallback]))
    ts.ok(ts.wait_for(lambda: [cookies(x) for x in picsec_ike()] == [new_ike] and
                      len(picsec_matured()) == 1, 10, 0.5),
          "%s: gwA holds only the new IKE SA %s/%s, matured: %s" %
          (tag, new_ike[0], new_ike[1], [(x["ike-sa-state"], cookies(x))
                                         for x in picsec_ike()]))
    got = {k: n.get(k) for k in s["ike_algs"]}
    ts.ok(got == s["ike_algs"], "%s: the new IKE SA has the proposal: %s" % (tag, got))
    inst = swan.children(n)
    ts.ok(len(inst) == 1 and inst[0].get("state") == "INSTALLED" and
          (inst[0]["spi-in"], inst[0]["spi-out"]) == child_spis and
          picsec_spis()["outbound"] == [spi_hex(child_spis[0])] and
          picsec_spis()["inbound"] == [spi_hex(child_spis[1])],
          "%s: the Child SA moved to the new IKE SA on both sides, its SPIs kept "
          "(charon %s, gwA %s)" % (tag, [(x.get("state"), x.get("spi-in"), x.get("spi-out"))
                                         for x in inst], picsec_spis()))
    if not inst:
        return
    traffic(tmp, tag + " after", swan, inst[0])
    # The next exchanges go under the new SPIs: gwA's DPD (every 2 s when idle) and a
    # Delete from charon, which gwA must act on.
    cap = Capture(tmp, "wan-%s-delete" % tag)
    time.sleep(2.5)
    r = swan.swanctl("--terminate", "--ike", CONN, "--timeout", "10", timeout=20,
                     check=False)
    left = gone(swan, new_ike, {spi_hex(x) for x in child_spis})
    pkts = cap.stop()
    ike = {p[3] for p in pkts if p[2] == "ike"}
    ts.ok(ike and ike == {new_ike},
          "%s: IKE after the rekey is under the new SPIs only: %s" % (tag, sorted(ike)))
    ts.ok(r.returncode == 0 and not any(left.values()),
          "%s: charon's Delete under the new IKE SA clears both sides (still held: %s)" %
          (tag, [k for k, v in left.items() if v] or "none"))


# charon's words when a rekey did not happen in place.
FALLBACK = re.compile(r"reauthentic|rekey\w* failed|error notify|not support")


def rekey_answer(line):
    """A CREATE_CHILD_SA response that brings a new SA (SA and Nonce payloads)."""
    m = re.search(r"\[(.*)\]", line)
    words = m.group(1).split() if m else []
    return "SA" in words and "No" in words


SCENARIOS = {}
for _name in SETS:
    SCENARIOS[_name + "-picsec"] = (_name, "picsec")
    SCENARIOS[_name + "-charon"] = (_name, "charon")
SCENARIOS["rekey-child"] = ("modp2048", "picsec")
SCENARIOS["rekey-ike"] = ("modp2048", "charon")


def keep(tmp, scenario, swan):
    dest = os.environ.get("PICSEC_INTEROP_KEEP")
    if not dest:
        return
    dest = os.path.join(dest, scenario)
    os.makedirs(dest, exist_ok=True)
    for name in ("charon.log", "charon.out", "swanctl.conf", "strongswan.conf"):
        p = os.path.join(swan.dir, name)
        if os.path.exists(p):
            shutil.copy(p, dest)
    for name in os.listdir(tmp):
        if name.endswith(".pcap") or name.endswith(".conf"):
            shutil.copy(os.path.join(tmp, name), dest)
    gw = os.path.join(RUN, "gwA")
    if os.path.isdir(gw):
        for name in os.listdir(gw):
            if name.endswith(".log"):
                shutil.copy(os.path.join(gw, name), dest)


def check_bus():
    """gwA's busd served only the processes this run's topology started: a picsec process
    left over from another run (its namespace gone) joins any new busd on the same runtime
    directory and answers in its name."""
    gw = os.path.join(RUN, "gwA")
    try:
        with open(os.path.join(gw, "pids")) as f:
            ours = {int(line.split()[1]) for line in f if len(line.split()) == 2}
        with open(os.path.join(gw, "picsec-busd.log"), errors="replace") as f:
            seen = re.findall(r"service '([^']+)' registered \(pid (\d+)", f.read())
    except OSError as e:
        ts.diag("gwA's bus: %s" % e)
        return
    foreign = sorted({(name, int(pid)) for name, pid in seen if int(pid) not in ours})
    ts.ok(not foreign, "gwA's bus served only this run's processes%s" % (
        "" if not foreign else ": also %s (left over from another run: end them)" % foreign))


def wait_alone():
    """No other two-site run: ps-gwA absent, or gone within 5 minutes."""
    def absent():
        r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                           timeout=10)
        return not any(line.split()[:1] == ["ps-gwA"] for line in r.stdout.splitlines())
    if not absent():
        ts.diag("another two-site run holds ps-gwA: waiting up to 5 minutes")
        if not ts.wait_for(absent, 300, 2):
            ts.diag("ps-gwA is still there after 5 minutes: going on")


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        sys.exit("usage: interop.py SCENARIO (%s)" % " ".join(SCENARIOS))
    scenario = sys.argv[1]
    set_name, starter = SCENARIOS[scenario]
    s = SETS[set_name]
    missing = [p for p in (CHARON, SWANCTL, "/usr/lib/ipsec/plugins/"
                           "libstrongswan-kernel-libipsec.so") if not os.path.exists(p)]
    if os.geteuid() != 0 or missing:
        # Not a skip: scripts/test.sh installs strongSwan, so its absence is a failure.
        print("not ok 1 - interop needs root and strongSwan (scripts/deps.sh test): %s" %
              (", ".join(missing) or "not root"))
        print("1..1")
        sys.exit(1)
    wait_alone()

    def body(tmp):
        conf = picsec_config(tmp, s, starter == "picsec")
        swan = Charon(tmp, s)
        ts.diag("%s: picsec %s/%s/%s, esp %s %s, pfs %s; charon %s, esp %s" % (
            scenario, s["IKE_ENC"], s["IKE_AUTH"], s["IKE_DH"], s["ESP_ENC"],
            s["ESP_AUTH"] or "(aead)", s["PFS"], s["swan_ike"], s["swan_esp"]))
        ts.topology("up", "--a", conf, "--b", "none")
        whole = None
        try:
            whole = Capture(tmp, "wan-all")
            swan.start()
            if scenario == "rekey-child":
                scenario_rekey_child(tmp, swan, s, scenario)
            elif scenario == "rekey-ike":
                scenario_rekey_ike(tmp, swan, s, scenario)
            else:
                scenario_basic(tmp, swan, s, scenario, starter == "picsec")
            pkts, whole = whole.stop(), None
            check_whole(scenario, pkts, swan.ready_at)
            check_bus()
        finally:
            if whole is not None:
                whole.stop()
            if ts._tap_failed:
                ts.diag(swan.log_tail())
                log = os.path.join(RUN, "gwA", "picsec-iked.log")
                if os.path.exists(log):
                    with open(log, errors="replace") as f:
                        ts.diag("---- gwA picsec-iked.log\n" +
                                "\n".join(f.read().splitlines()[-40:]))
            keep(tmp, scenario, swan)
            swan.stop()
    ts.tap_main(body)


if __name__ == "__main__":
    main()
