#!/usr/bin/python3
""""Clearing Security Associations" on two-site, each rule with and without its statement:
gwA's PIC (picsec-fwd) is SIGKILLed under picsec-healthd's watch, or gwA's local gateway
address is taken away, and the cleanup events on gwA's bus (cleanup.*, from sadb and iked)
are timed against the kill; what must be cleared is, what must survive does, and traffic
flows again once the PIC or the address is back. TAP output."""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_site as ts  # noqa: E402

RUN = "/run/picsec-two-site"
HOST_B = "198.18.2.10"


def conf(tmp, site, style, kind, statements=(), gw_interface=False):
    """A two-site configuration: style next-hop or interface, kind manual or dynamic, with
    the ipsec-vpn statements given and local-gateway ... gw-interface if asked."""
    if style == "interface":
        with open(os.path.join(ts.EXAMPLES, "two-site-interface-esp-%s.conf" % site)) as f:
            text = f.read()
        if kind == "dynamic":
            with open(os.path.join(ts.EXAMPLES, "two-site-dynamic-esp-%s.conf" % site)) as f:
                dyn = f.read()
            # The dynamic term's then-block and the ike/ipsec sections of the dynamic example.
            then = re.search(r"(                    dynamic \{.*?\n                    \})",
                             dyn, re.S).group(1)
            text = re.sub(r"                    manual \{.*?\n                    \}\n", then + "\n",
                          text, count=1, flags=re.S)
            extra = re.search(r"(        ike \{.*?        establish-tunnels immediately;\n)",
                              dyn, re.S).group(1)
            text = text.replace("            match-direction output;\n        }\n",
                                "            match-direction output;\n        }\n" + extra, 1)
    else:
        name = "dynamic" if kind == "dynamic" else "manual"
        with open(os.path.join(ts.EXAMPLES, "two-site-%s-esp-%s.conf" % (name, site))) as f:
            text = f.read()
    for st in statements:
        text = text.replace("    ipsec-vpn {\n", "    ipsec-vpn {\n        %s;\n" % st, 1)
    if gw_interface:
        text = re.sub(r"local-gateway (\S+);", r"local-gateway \1 gw-interface ge-0/0/0.0;",
                      text, count=1)
    path = os.path.join(tmp, "%s-%s-%s-%s%s.conf" % (site, style, kind, "-".join(statements),
                                                     "-gwif" if gw_interface else ""))
    with open(path, "w") as f:
        f.write(text)
    return path


def up(tmp, style, kind, statements=(), gw_interface=False):
    ts.topology("up", "--a", conf(tmp, "a", style, kind, statements, gw_interface),
                "--b", conf(tmp, "b", style, kind))
    if style == "interface":
        ts.node("gwA", "ip", "route", "add", "198.18.2.0/24", "via", "192.0.2.2")
        ts.node("gwB", "ip", "route", "add", "198.18.1.0/24", "via", "192.0.2.1")
    ts.ok(ts.wait_for(lambda: installed_spis("gwA") and pings(1, 1), 15),
          "%s %s%s%s: SAs installed on gwA, a ping crosses" % (
              style, kind, "".join(" " + s for s in statements),
              " gw-interface" if gw_interface else ""))


def all_sas(gw):
    """(SPI, state, type) of every SA the gateway's sadb lists."""
    sas = ts.cli_json(gw, "show", "services", "ipsec-vpn", "ipsec", "security-associations",
                      "detail")
    out = []

    def walk(o):
        if isinstance(o, dict):
            if "sa-spi" in o:
                out.append((o["sa-spi"], o.get("sa-state"), o.get("sa-type")))
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(sas)
    return sorted(out)


def installed_spis(gw):
    return sorted(spi for spi, state, _ in all_sas(gw) if state == "installed")


def installed_pair(gw):
    """The gateway's installed SPIs once there are two (bounded): a pair negotiated a moment
    ago is Installed only after the PIC's next report (200 ms at most after an update),
    and a renegotiation here can finish within 20 ms of its trigger."""
    spis = [[]]

    def two():
        spis[0] = installed_spis(gw)
        return len(spis[0]) == 2
    ts.wait_for(two, 3)
    return spis[0]


def ike_cookies(gw):
    r = ts.cli_json(gw, "show", "services", "ipsec-vpn", "ike", "security-associations")
    return sorted(re.findall(r'"ike-sa-initiator-cookie": "([0-9a-f]+)"', json.dumps(r)))


def pings(count, wait):
    r = ts.node("hostA", "ping", "-c", str(count), "-i", "0.2", "-W", str(wait), HOST_B,
                check=False, timeout=count * 2 + wait + 5)
    return r.returncode == 0


def pings_within(seconds):
    """Seconds until a ping crosses (one ping at a time, 0.25 s each), or None."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        r = ts.node("hostA", "ping", "-c", "1", "-W", "0.25", HOST_B, check=False)
        if r.returncode == 0:
            return time.monotonic() - start
    return None


def fwd_pid():
    r = ts.run(["pgrep", "-f", "picsec-fwd --rundir %s/gwA --pic" % RUN], check=False)
    return int(r.stdout.split()[0]) if r.stdout.strip() else 0


def kill_pic():
    pid = fwd_pid()
    os.kill(pid, signal.SIGKILL)
    return time.time()


def start_pic():
    log = open(os.path.join(RUN, "gwA", "picsec-fwd-ms-0-0-0.log"), "a")
    subprocess.Popen(["ip", "netns", "exec", "ps-gwA",
                      os.path.join(ts.BUILD, "forwarder", "picsec-fwd"),
                      "--rundir", RUN + "/gwA", "--pic", "ms-0/0/0"],
                     stdout=log, stderr=log, start_new_session=True)


def cleanups(evs, by=None):
    return [e for e in evs if e.get("type") == "SaCleanup" and
            (by is None or e["payload"].get("by") == by)]


def settled(gw, kind):
    """Waits (bounded) until the SAs stay the same for a second: both gateways initiate,
    and the duplicate IKE SA is settled a moment after the first ping (§10)."""
    last = [None]

    def same():
        now = (installed_spis(gw), ike_cookies(gw) if kind == "dynamic" else [])
        stable = now == last[0] and len(now[0]) == 2 and len(now[1]) == (kind == "dynamic")
        last[0] = now
        return stable
    ts.ok(ts.wait_for(same, 15, 1.0), "%s SAs on %s settled: %s" % (kind, gw, last[0]))


def pic_restart(tmp, kind, statements, expect_ipsec_cleared, expect_ike_cleared):
    up(tmp, "next-hop", kind, statements)
    settled("gwA", kind)
    before, ike_before = installed_spis("gwA"), ike_cookies("gwA")
    ev = ts.Busmon("gwA", "cleanup.")
    t0 = kill_pic()
    time.sleep(2)
    evs = ev.stop()
    what = "%s SAs%s" % (kind, "".join(" + " + s for s in statements) or " without statements")
    sadb = cleanups(evs, "sadb")
    iked = cleanups(evs, "iked")
    if expect_ipsec_cleared:
        ts.ok(sadb and sadb[0]["t"] - t0 <= 1.0 and
              sadb[0]["payload"].get("ipsec_sas_cleared", 0) >= 2,
              "%s: sadb clears the IPsec SAs %.3f s after the PIC's death" % (
                  what, sadb[0]["t"] - t0 if sadb else -1))
    else:
        ts.ok(not sadb, "%s: sadb clears nothing (%d events)" % (what, len(sadb)))
    if expect_ike_cleared:
        ts.ok(iked and iked[0]["t"] - t0 <= 1.0 and iked[0]["payload"].get("ike_sas_cleared") == 1,
              "%s: iked clears the IKE SA %.3f s after the PIC's death" % (
                  what, iked[0]["t"] - t0 if iked else -1))
    else:
        ts.ok(not iked, "%s: iked clears no IKE SA (%d events)" % (what, len(iked)))
    if not expect_ipsec_cleared and not expect_ike_cleared:
        ts.ok(all_sas("gwA") and [s for s, _, _ in all_sas("gwA")] == before,
              "%s: the SAs survive the PIC's death in sadb (%s)" % (what, before))
    start_pic()
    t1 = time.monotonic()
    took = pings_within(15)
    ts.ok(took is not None, "%s: traffic flows again %.2f s after the PIC's start" % (
        what, took if took is not None else -1))
    after = installed_pair("gwA")
    if kind == "dynamic" and (expect_ipsec_cleared or expect_ike_cleared):
        ts.ok(after and not set(after) & set(before),
              "%s: new SAs were negotiated (%s -> %s)" % (what, before, after))
    elif kind == "dynamic":
        ts.ok(after == before and ike_cookies("gwA") == ike_before and took < 1.0 + 0.5,
              "%s: the same SAs and IKE SA carry traffic, no renegotiation (%.2f s)" % (
                  what, time.monotonic() - t1))
    ts.topology("down")


def set_address(present):
    ts.node("gwA", "ip", "addr", "add" if present else "del", "192.0.2.1/24", "dev", "ge-0-0-0")


def gateway_down(tmp, style, kind):
    up(tmp, style, kind, gw_interface=True)
    settled("gwA", kind)
    before = installed_spis("gwA")
    ev = ts.Busmon("gwA", "cleanup.")
    t0 = time.time()
    set_address(False)
    time.sleep(2)
    sas_down = all_sas("gwA")
    ike_down = ike_cookies("gwA")
    what = "gw-interface, %s style, %s SAs" % (style, kind)
    if style == "interface":
        ts.ok(sas_down and all(st == "Not Installed" for _, st, _ in sas_down) and
              [s for s, _, _ in sas_down] == before,
              "%s: the local gateway gone, its SAs are Not Installed (%s)" % (what, sas_down))
    elif kind == "dynamic":
        ts.ok(not sas_down and not ike_down,
              "%s: the local gateway gone, its IKE and IPsec SAs are cleared" % what)
    else:
        ts.ok(all(st == "Not Installed" for _, st, _ in sas_down),
              "%s: the local gateway gone, its configured SAs are off the PIC" % what)
    set_address(True)
    if style == "interface":
        ts.node("gwA", "ip", "route", "replace", "198.18.2.0/24", "via", "192.0.2.2")
    took = pings_within(20)
    evs = ev.stop()
    sadb = cleanups(evs, "sadb")
    ts.ok(sadb and sadb[0]["payload"]["cause"] == "CLEANUP_GATEWAY_DOWN" and
          sadb[0]["t"] - t0 <= 1.0 and sadb[0]["payload"].get("triggers_stopped"),
          "%s: sadb's cleanup event %.3f s after the address went" % (
              what, sadb[0]["t"] - t0 if sadb else -1))
    if kind == "dynamic" and style == "next-hop":
        iked = cleanups(evs, "iked")
        ts.ok(iked and iked[0]["payload"].get("ike_sas_cleared") == 1,
              "%s: iked clears the IKE SA and stops its triggers" % what)
    ts.ok(any(e["payload"]["cause"] == "CLEANUP_GATEWAY_UP" for e in sadb),
          "%s: a cleanup event when the address is back" % what)
    after = installed_pair("gwA")
    ts.ok(took is not None, "%s: traffic flows again %.2f s after the address is back" % (
        what, took if took is not None else -1))
    if kind == "dynamic":
        ts.ok(after and not set(after) & set(before),
              "%s: the old SAs were deleted, new ones negotiated (%s -> %s)" % (
                  what, before, after))
    ts.topology("down")


def body(tmp):
    pic_restart(tmp, "dynamic", ("clear-ipsec-sas-on-pic-restart",), True, False)
    pic_restart(tmp, "dynamic", ("clear-ike-sas-on-pic-restart",), False, True)
    pic_restart(tmp, "dynamic", (), False, False)
    pic_restart(tmp, "manual", ("clear-ipsec-sas-on-pic-restart",), True, False)
    pic_restart(tmp, "manual", (), False, False)
    gateway_down(tmp, "next-hop", "dynamic")
    gateway_down(tmp, "next-hop", "manual")
    gateway_down(tmp, "interface", "dynamic")
    gateway_down(tmp, "interface", "manual")


def main():
    ts.tap_main(body)


if __name__ == "__main__":
    main()
