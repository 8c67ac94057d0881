#!/usr/bin/python3
"""picsec's ESP and AH against scapy's SecurityAssociation, both ways.

For every protocol x encryption x authentication x mode the configuration accepts (and
scapy knows), packets picsec wraps (dp_xcheck encap) must open in scapy to the same inner
packet, and packets scapy wraps must open in picsec (dp_xcheck decap) to the same bytes.
Run with Debian's python (/usr/bin/python3), which has python3-scapy.

    scapy_xcheck.py PATH/TO/dp_xcheck
"""
import os
import subprocess
import sys

from scapy.layers.inet import IP, UDP, ICMP
from scapy.layers.ipsec import AH, ESP, SecurityAssociation
from scapy.packet import Raw, bind_layers, split_layers

GW_A, GW_B = "192.0.2.1", "192.0.2.2"
ENCS = {  # picsec name: (scapy name, key bytes)
    "null": ("NULL", 0),
    "des-cbc": ("DES", 8),
    "3des-cbc": ("3DES", 24),
    "aes-128-cbc": ("AES-CBC", 16),
    "aes-192-cbc": ("AES-CBC", 24),
    "aes-256-cbc": ("AES-CBC", 32),
}
AUTHS = {  # hmac-sha-256-96 is left out: scapy does not have it
    "none": ("NULL", 0),
    "hmac-md5-96": ("HMAC-MD5-96", 16),
    "hmac-sha1-96": ("HMAC-SHA1-96", 20),
    "hmac-sha-256-128": ("SHA2-256-128", 32),
}
SPI, AUX_SPI = 0x3e8, 0x7d0


def inner_packets():
    """Three inner packets of different sizes: ICMP, UDP, and one near 1400 bytes."""
    base = dict(src="198.18.1.10", dst="198.18.2.10", ttl=63, id=0x1234)
    return [
        IP(**base) / ICMP() / Raw(b"picsec" * 3),
        IP(flags="DF", tos=0xb8, **base) / UDP(sport=5000, dport=6000) / Raw(bytes(range(77))),
        IP(**base) / UDP(sport=5001, dport=6001) / Raw(os.urandom(1350)),
    ]


def valid(proto, enc, auth, udp):
    if proto in ("ah", "bundle") and auth == "none":
        return False
    if proto == "esp" and enc == "null" and auth == "none":
        return False
    if proto == "ah" and enc != "null":
        return False
    if proto == "bundle" and enc == "null":
        return False
    return not (udp and proto != "esp")


def scapy_sas(proto, mode, enc, auth, udp, ekey, akey):
    """The scapy SAs for one combination: a list applied in order when wrapping."""
    tunnel = IP(src=GW_A, dst=GW_B) if mode == "tunnel" else None
    nat = UDP(sport=4500, dport=4500) if udp else None
    if proto == "esp":
        return [SecurityAssociation(ESP, spi=SPI, crypt_algo=ENCS[enc][0], crypt_key=ekey,
                                    auth_algo=AUTHS[auth][0], auth_key=akey or None,
                                    tunnel_header=tunnel, nat_t_header=nat)]
    if proto == "ah":
        return [SecurityAssociation(AH, spi=SPI, auth_algo=AUTHS[auth][0], auth_key=akey,
                                    tunnel_header=tunnel)]
    # bundle: ESP (encryption only, the auxiliary SPI) inside, AH over the result
    return [SecurityAssociation(ESP, spi=AUX_SPI, crypt_algo=ENCS[enc][0], crypt_key=ekey,
                                auth_algo="NULL", tunnel_header=tunnel),
            SecurityAssociation(AH, spi=SPI, auth_algo=AUTHS[auth][0], auth_key=akey)]


def ah_over_esp(sa, pkt, seq):
    """scapy 2.5 signs AH over a parsed ESP layer as if it were ESP (the ICV stays zero):
    ESP is unbound from IP while AH is added, so the payload stays opaque bytes."""
    split_layers(IP, ESP, proto=50)
    try:
        return sa.encrypt(IP(bytes(pkt)), seq_num=seq)
    finally:
        bind_layers(IP, ESP, proto=50)


def run_tool(tool, direction, args, packets):
    out = subprocess.run([tool, direction] + args, input="".join(p.hex() + "\n" for p in packets),
                         capture_output=True, text=True, timeout=60, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"dp_xcheck {direction} {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout.splitlines()


def check(tool, proto, mode, enc, auth, udp):
    ekey = os.urandom(ENCS[enc][1]) if proto != "ah" else b""
    akey = os.urandom(AUTHS[auth][1])
    args = ["--proto", proto, "--enc", enc, "--auth", auth, "--spi", str(SPI),
            "--aux-spi", str(AUX_SPI)]
    if ekey:
        args += ["--enc-key", ekey.hex()]
    if akey:
        args += ["--auth-key", akey.hex()]
    if mode == "transport":
        args.append("--transport")
    if udp:
        args.append("--udp")
    inners = [bytes(p) for p in inner_packets()]
    failures = []

    # picsec wraps, scapy opens.
    sas = scapy_sas(proto, mode, enc, auth, udp, ekey, akey)
    outs = run_tool(tool, "encap", args + ["--local", GW_A, "--remote", GW_B], inners)
    for i, (inner, line) in enumerate(zip(inners, outs)):
        if line.startswith("DROP"):
            failures.append(f"picsec could not wrap packet {i}: {line}")
            continue
        pkt = IP(bytes.fromhex(line))
        try:
            for sa in reversed(sas):
                # Each step parses afresh: scapy leaves an opened AH's payload as Raw.
                pkt = sa.decrypt(IP(bytes(pkt)))
        except Exception as e:  # scapy raises on a bad ICV or padding
            failures.append(f"scapy cannot open picsec's packet {i}: {e!r}")
            continue
        if bytes(pkt) != inner:
            failures.append(f"scapy opened picsec's packet {i} to other bytes")

    # scapy wraps, picsec opens.
    sas = scapy_sas(proto, mode, enc, auth, udp, ekey, akey)
    wrapped = []
    for seq, inner in enumerate(inners, start=1):
        pkt = IP(inner)
        for sa in sas:
            pkt = ah_over_esp(sa, pkt, seq) if sa.proto is AH else \
                sa.encrypt(IP(bytes(pkt)), seq_num=seq)
        wrapped.append(bytes(pkt))
    outs = run_tool(tool, "decap", args + ["--local", GW_B, "--remote", GW_A], wrapped)
    for i, (inner, line) in enumerate(zip(inners, outs)):
        if line.startswith("DROP"):
            failures.append(f"picsec cannot open scapy's packet {i}: {line}")
        elif bytes.fromhex(line) != inner:
            failures.append(f"picsec opened scapy's packet {i} to other bytes")
    return failures


def main():
    tool = sys.argv[1]
    done = failed = 0
    for proto in ("esp", "ah", "bundle"):
        for mode in ("tunnel", "transport"):
            for enc in ENCS:
                for auth in AUTHS:
                    for udp in (False, True):
                        if not valid(proto, enc, auth, udp):
                            continue
                        name = f"{proto} {mode} {enc} {auth}{' udp' if udp else ''}"
                        problems = check(tool, proto, mode, enc, auth, udp)
                        done += 1
                        if problems:
                            failed += 1
                            print(f"FAIL {name}")
                            for p in problems:
                                print(f"     {p}")
                        else:
                            print(f"ok   {name}")
    print(f"{done} combinations, {failed} failed")
    if done < 80:
        print("too few combinations ran")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
