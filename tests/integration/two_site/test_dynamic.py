#!/usr/bin/python3
"""Dynamic SAs, picsec to picsec on two-site: both gateways' picsec-iked negotiate IKEv2
(pre-shared key) from config/examples/two-site-dynamic-esp-{a,b}.conf and install the
Child SA through sadb. Pings cross both ways and a TCP transfer arrives intact, the wan
carries only IKE and ESP between the gateways under the negotiated SPIs; clearing the IKE
SAs deletes them at the peer too and a new pair comes up; killing the peer's iked is found
by dead peer detection, which clears the SAs, and its restart brings the tunnel back with
the predecessor's SAs swept. Then the same with an AH proposal, and with ESP in UDP (udp-encapsulate: both sides
act as if a NAT were between them, IKE moves to port 4500); rekeys under traffic; and with
establish-tunnels on-traffic on both gateways, nothing until hostA's pings make gwA's PIC ask
for the SA (SaAcquire), then the tunnel. TAP output."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_site as ts  # noqa: E402

RUN = "/run/picsec-two-site"


def dynamic_config(site, tmp, proto="esp", establish="immediately"):
    with open(os.path.join(ts.EXAMPLES, "two-site-dynamic-esp-%s.conf" % site)) as f:
        text = f.read()
    if establish != "immediately":
        text = text.replace("establish-tunnels immediately;",
                            "establish-tunnels %s;" % establish)
        assert "establish-tunnels %s;" % establish in text
    if proto == "udp":
        text = text.replace("""            local-gateway 192.0.2.""", """            udp-encapsulate;
            local-gateway 192.0.2.""")
        assert "udp-encapsulate;" in text
    if proto == "ah":
        text = text.replace("""                protocol esp;
                authentication-algorithm hmac-sha-256-128;
                encryption-algorithm aes-128-cbc;""", """                protocol ah;
                authentication-algorithm hmac-sha-256-128;""")
        assert "protocol ah;" in text
    path = os.path.join(tmp, "dynamic-%s-%s-%s.conf" % (site, proto, establish))
    with open(path, "w") as f:
        f.write(text)
    return path


def ike_sas(gw):
    """The gateway's IKE SAs as (state, initiator cookie, responder cookie), from JSON."""
    found = []

    def walk(o):
        if isinstance(o, dict):
            if "ike-sa-state" in o:
                found.append((o["ike-sa-state"], o.get("ike-sa-initiator-cookie"),
                              o.get("ike-sa-responder-cookie")))
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(ts.cli_json(gw, "show", "services", "ipsec-vpn", "ike", "security-associations"))
    return found


def matured(gw):
    return [s for s in ike_sas(gw) if s[0] == "matured"]


def spis(gw):
    """The gateway's installed IPsec SAs' SPIs by direction."""
    sas = ts.cli_json(gw, "show", "services", "ipsec-vpn", "ipsec", "security-associations",
                      "detail")
    out = {"inbound": [], "outbound": []}

    def walk(o):
        if isinstance(o, dict):
            if "sa-direction" in o and "sa-spi" in o:
                out.setdefault(o["sa-direction"], []).append(int(o["sa-spi"]))
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(sas)
    return out


def pings(src, dst, count=3):
    r = ts.node(src, "ping", "-c", str(count), "-i", "0.2", "-W", "1", dst, check=False)
    return r.returncode == 0


def iked_pid(gw):
    with open(os.path.join(RUN, gw, "pids")) as f:
        pids = [int(line.split()[1]) for line in f if line.split()[0] == "picsec-iked"]
    return pids[-1]


def start_iked(gw):
    log = open(os.path.join(RUN, gw, "picsec-iked.log"), "a")
    proc = subprocess.Popen(["ip", "netns", "exec", "ps-" + gw,
                             os.path.join(ts.BUILD, "services", "iked", "picsec-iked"),
                             "--rundir", os.path.join(RUN, gw)],
                            stdout=log, stderr=log, start_new_session=True)
    with open(os.path.join(RUN, gw, "pids"), "a") as f:
        f.write("picsec-iked %d\n" % proc.pid)


def settled():
    """One IKE SA on each side, matured, the same one, and one Child SA pair installed whose
    SPIs mirror. Anything less is a moment that may still change: when both gateways
    initiated at once, each holds one matured IKE SA and its Child SAs while the other
    IKE SA is still half-open, and the lower initiator SPI replaces them both when it
    matures (two-site-dynamic's `establish-tunnels immediately` on both sides)."""
    ike_a, ike_b = ike_sas("gwA"), ike_sas("gwB")
    if len(ike_a) != 1 or ike_a != ike_b or ike_a[0][0] != "matured":
        return False
    if (ts.sa_states("gwA").count("installed") != 2 or
            ts.sa_states("gwB").count("installed") != 2):
        return False
    a, b = spis("gwA"), spis("gwB")
    return (len(a["outbound"]) == 1 and a["outbound"] == b["inbound"] and
            a["inbound"] == b["outbound"])


def up_pair(proto):
    """Both gateways agree on one IKE SA and its Child SA pair (see settled)."""
    return ts.wait_for(settled, 30, 0.3)


def capture_check(tmp, proto, a_spis, b_spis):
    """A capture on the wan while pings cross: only IKE and proto between the gateways,
    under the SPIs the gateways show."""
    from scapy.all import AH, ESP, IP, UDP, rdpcap
    pcap = os.path.join(tmp, "wan-%s.pcap" % proto)
    # IGMP: the kernel's own link chatter on the bridge, not traffic between the gateways
    cap = ts.popen("wan", "tcpdump", "-nqi", "br0", "-B", "16384", "-U", "-w", pcap,
                   "ip and not igmp")
    time.sleep(1)
    ts.ok(pings("hostA", "198.18.2.10") and pings("hostB", "198.18.1.10"),
          "%s: pings cross both ways" % proto)
    time.sleep(0.5)
    cap.terminate()
    cap.communicate(timeout=10)
    seen, other = set(), []
    for p in rdpcap(pcap):
        if IP not in p:
            continue
        if proto == "udp" and UDP in p and p[UDP].dport == 4500:
            payload = bytes(p[UDP].payload)
            if payload[:4] != b"\0\0\0\0" and len(payload) > 8:
                seen.add((p[IP].src, int.from_bytes(payload[:4], "big")))
        elif proto != "udp" and (ESP if proto == "esp" else AH) in p:
            layer = ESP if proto == "esp" else AH
            seen.add((p[IP].src, p[layer].spi))
        elif not (UDP in p and p[UDP].dport in (500, 4500)):
            other.append(p.summary())
    want = {("192.0.2.1", s) for s in a_spis} | {("192.0.2.2", s) for s in b_spis}
    ts.ok(seen and seen <= want,
          "%s: the wan carries %s under the negotiated SPIs %s (shown: %s)" %
          (proto, proto.upper(), sorted(seen), sorted(want)))
    ts.ok(not other, "%s: nothing else crossed the wan: %s" % (proto, other[:3]))


def tshark(pcap, keys, *args):
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=keys)
    r = subprocess.run(["tshark", "-n", "-r", pcap, "-o", "esp.enable_encryption_decode:TRUE",
                        "-o", "esp.enable_authentication_check:TRUE"] + list(args),
                       capture_output=True, text=True, timeout=60, env=env)
    return r.stdout


def ike_stats(gw):
    return ts.cli_json(gw, "show", "services", "ipsec-vpn", "ike",
                       "statistics")["ike-security-associations-statistics"]


def keylog_check(tmp, keys):
    """A capture of a clear and the negotiation that follows, decrypted by tshark from the
    key log alone: IKE_AUTH's identities and the pings inside ESP."""
    pcap = os.path.join(tmp, "keylog.pcap")
    cap = ts.popen("wan", "tcpdump", "-nqi", "br0", "-B", "16384", "-U", "-w", pcap, "ip")
    time.sleep(1)
    ts.node("gwA", os.path.join(ts.BUILD, "tools", "cli", "picsec"), "clear", "services",
            "ipsec-vpn", "ike", "security-associations")
    ts.ok(up_pair("esp") and pings("hostA", "198.18.2.10"), "keylog: negotiated anew")
    time.sleep(0.5)
    cap.terminate()
    cap.communicate(timeout=10)
    names = sorted(os.listdir(keys))
    mode = os.stat(os.path.join(keys, "esp_sa")).st_mode & 0o777
    ts.ok(names == ["esp_sa", "ikev2_decryption_table"] and mode == 0o600,
          "keylog: Wireshark's two tables, mode %o: %s" % (mode, names))
    # the last ip.src of a decrypted packet is the inner header's
    icmp = tshark(pcap, keys, "-Y", "icmp && esp", "-T", "fields", "-e", "ip.src",
                  "-E", "occurrence=l")
    ts.ok("198.18.1.10" in icmp.split() and "198.18.2.10" in icmp.split(),
          "keylog: tshark decrypts the pings inside ESP (%d lines)" % len(icmp.split()))
    ids = tshark(pcap, keys, "-V")
    ts.ok("Identification Data:192.0.2.1" in ids and "Identification Data:192.0.2.2" in ids,
          "keylog: tshark decrypts IKE_AUTH and shows both identities")


def body(tmp):
    keys = os.path.join(tmp, "keys")
    os.mkdir(keys, 0o700)
    os.environ["PICSEC_IKED_ARGS"] = "--keylog " + keys
    ts.topology("up", "--a", dynamic_config("a", tmp), "--b", dynamic_config("b", tmp))
    del os.environ["PICSEC_IKED_ARGS"]
    ts.ok(up_pair("esp"), "one IKE SA matured on each side, both Child SAs installed")
    a, b = spis("gwA"), spis("gwB")
    ts.ok(a["outbound"] == b["inbound"] and a["inbound"] == b["outbound"],
          "the SPIs mirror each other: gwA %s, gwB %s" % (a, b))
    capture_check(tmp, "esp", a["outbound"], b["outbound"])
    ts.ok(ts.transfer(4 << 20), "4 MiB over TCP arrive intact")
    keylog_check(tmp, keys)
    ike_a = matured("gwA")[0]

    # clear on gwA: a Delete to gwB, then a new pair (establish-tunnels immediately)
    ts.node("gwA", os.path.join(ts.BUILD, "tools", "cli", "picsec"), "clear", "services",
            "ipsec-vpn", "ike", "security-associations")
    ts.ok(up_pair("esp") and matured("gwA")[0][1:] != ike_a[1:],
          "after clear on gwA, a new IKE SA on both sides (old %s)" % (ike_a[1:],))
    ts.ok(ts.wait_for(lambda: len(ike_sas("gwB")) == 1, 5, 0.3),
          "gwB holds only the new IKE SA: the Delete reached it")
    ts.ok(spis("gwA")["outbound"] != a["outbound"] and pings("hostA", "198.18.2.10"),
          "new Child SA keys, traffic crosses")

    # the peer's iked dies: dead peer detection (interval 2, threshold 3) on gwA
    os.kill(iked_pid("gwB"), signal.SIGKILL)
    t0 = time.monotonic()
    ts.ok(ts.wait_for(lambda: not matured("gwA"), 20, 0.5),
          "gwA's DPD declared the peer dead after %.1f s" % (time.monotonic() - t0))
    ts.ok(ts.wait_for(lambda: ts.sa_states("gwA") == [], 5, 0.3),
          "gwA's IPsec SAs are cleared with the IKE SA")
    start_iked("gwB")
    ts.ok(up_pair("esp"), "gwB's new iked and gwA negotiate again")
    ts.ok(ts.wait_for(lambda: len(spis("gwB")["outbound"]) == 1, 5, 0.3),
          "gwB's predecessor's SAs were swept: %s" % spis("gwB"))
    ts.ok(pings("hostA", "198.18.2.10") and pings("hostB", "198.18.1.10"),
          "traffic crosses both ways again")

    # gwB's iked restarts before gwA's DPD notices: its INITIAL_CONTACT makes gwA drop the
    # stale IKE SA at once (no Delete to a peer that forgot it)
    old_a = matured("gwA")
    os.kill(iked_pid("gwB"), signal.SIGKILL)
    start_iked("gwB")
    ts.ok(ts.wait_for(lambda: len(ike_sas("gwA")) == 1 and matured("gwA") and
                      matured("gwA") != old_a and len(matured("gwB")) == 1, 8, 0.3),
          "INITIAL_CONTACT: gwA holds only the new IKE SA (old %s, now %s)" %
          (old_a, ike_sas("gwA")))
    with open(os.path.join(RUN, "gwA", "picsec-iked.log")) as f:
        ts.ok("INITIAL_CONTACT" in f.read(), "INITIAL_CONTACT: gwA's log says why")
    ts.ok(pings("hostA", "198.18.2.10"), "INITIAL_CONTACT: traffic crosses")

    # Cookies (§2.6) from the first half-open IKE SA on: still one IKE SA each side
    ts.topology("down")
    os.environ["PICSEC_IKED_ARGS"] = "--cookie-threshold 0"
    ts.topology("up", "--a", dynamic_config("a", tmp), "--b", dynamic_config("b", tmp))
    del os.environ["PICSEC_IKED_ARGS"]
    ts.ok(up_pair("esp"), "cookies: IKE SAs matured, Child SAs installed")
    st = [ike_stats(g) for g in ("gwA", "gwB")]
    sent = [x["cookies-sent"] for x in st]
    asked = [x["ike-sa-init-requests-received"] for x in st]
    # Who responded depends on who came up first; whoever did asked for a cookie.
    ts.ok(sum(sent) >= 1 and all(c >= 1 for c, n in zip(sent, asked) if n > 0) and
          pings("hostA", "198.18.2.10"),
          "cookies: every responder asked for one (sent %s, IKE_SA_INITs taken %s), "
          "traffic crosses" % (sent, asked))

    # AH
    ts.topology("down")
    ts.topology("up", "--a", dynamic_config("a", tmp, "ah"), "--b",
                dynamic_config("b", tmp, "ah"))
    ts.ok(up_pair("ah"), "ah: IKE SAs matured, Child SAs installed")
    a, b = spis("gwA"), spis("gwB")
    capture_check(tmp, "ah", a["outbound"], b["outbound"])

    # ESP in UDP: udp-encapsulate makes both sides act as if a NAT were between them
    ts.topology("down")
    ts.topology("up", "--a", dynamic_config("a", tmp, "udp"), "--b",
                dynamic_config("b", tmp, "udp"))
    ts.ok(up_pair("udp"), "udp: IKE SAs matured, Child SAs installed")
    a, b = spis("gwA"), spis("gwB")
    capture_check(tmp, "udp", a["outbound"], b["outbound"])
    ts.ok(ts.transfer(1 << 20), "udp: 1 MiB over TCP arrive intact")

    # Rekeys in place: lifetimes of 3600 s divided by 200 (Child SA soft at 85 %, IKE SA
    # at 90 % of 19 s): pings every 0.2 s across both kinds of rekey, on both sides
    ts.topology("down")
    os.environ["PICSEC_IKED_ARGS"] = "--lifetime-divisor 200"
    ts.topology("up", "--a", dynamic_config("a", tmp), "--b", dynamic_config("b", tmp))
    del os.environ["PICSEC_IKED_ARGS"]
    ts.ok(up_pair("esp"), "rekey: up")
    before = spis("gwA")["outbound"]
    r = ts.node("hostA", "ping", "-c", "200", "-i", "0.2", "-W", "1", "198.18.2.10",
                check=False, timeout=90)
    lost = 200 - int(r.stdout.split(" received")[0].split()[-1])
    st = [ike_stats(g) for g in ("gwA", "gwB")]
    child = sum(x["ipsec-sa-rekeys"] for x in st)
    ike = sum(x["ike-sa-rekeys"] for x in st)
    ts.ok(child >= 2 and ike >= 2, "rekey: in 40 s, %d Child SA and %d IKE SA rekeys "
          "(counted on both sides)" % (child, ike))
    ts.ok(lost <= 2, "rekey: %d of 200 pings lost across them" % lost)
    ts.ok(up_pair("esp") and spis("gwA")["outbound"] != before and
          len(matured("gwA")) == 1 and len(matured("gwB")) == 1,
          "rekey: one IKE SA and one Child SA pair each side, with new SPIs")
    on_traffic_check(tmp)


def on_traffic_check(tmp):
    """establish-tunnels on-traffic on both sides: no IKE SA until traffic for the term
    reaches gwA's PIC, which drops it and publishes an SaAcquire that starts gwA's iked."""
    ts.topology("down")
    ts.topology("up", "--a", dynamic_config("a", tmp, establish="on-traffic"), "--b",
                dynamic_config("b", tmp, establish="on-traffic"))
    time.sleep(3)
    idle = (ike_sas("gwA"), ike_sas("gwB"))
    ts.ok(idle == ([], []), "on-traffic: no IKE SA 3 s after the commit: %s" % (idle,))
    t0 = time.monotonic()
    while not pings("hostA", "198.18.2.10", 1) and time.monotonic() - t0 < 5:
        pass
    took = time.monotonic() - t0
    ts.ok(took < 5 and up_pair("esp"),
          "on-traffic: pings from hostA brought the tunnel up, the first crossed after "
          "%.1f s" % took)
    ts.ok(pings("hostA", "198.18.2.10") and pings("hostB", "198.18.1.10"),
          "on-traffic: traffic crosses both ways")
    with open(os.path.join(RUN, "gwA", "picsec-iked.log")) as f:
        log = f.read()
    ts.ok("traffic for site-a to-site-b/t1: negotiating" in log,
          "on-traffic: gwA's iked log says traffic started it")


def main():
    ts.tap_main(body)


if __name__ == "__main__":
    main()
