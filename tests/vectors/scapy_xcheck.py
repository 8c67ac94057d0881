#!/usr/bin/python3
"""picsec's ESP and AH against scapy's SecurityAssociation, both ways.

For every protocol x encryption x authentication x mode the configuration accepts (and
scapy knows), packets picsec wraps (dp_xcheck encap) must open in scapy to the same inner
packet, and packets scapy wraps must open in picsec (dp_xcheck decap) to the same bytes.
Each once with 32-bit sequence numbers from 1, and once with extended ones (RFC 4303
§2.2.1) across 2^32: 2^32 - 1, 2^32, 2^32 + 1, the receiver having seen 2^32 - 2 (and
getting 2^32 - 1 last).
AES-GCM (RFC 4106) is scapy's, with python3-cryptography's AESGCM underneath; so are its
ESN additional data and AH's ESN ICV. scapy's ESP HMAC leaves the high half out, so with
ESN this script computes that ICV itself (the ESP packet, then the high half).
Run with Debian's python (/usr/bin/python3), which has python3-scapy.

    scapy_xcheck.py PATH/TO/dp_xcheck
"""
import hmac
import os
import struct
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
    "aes-128-gcm": ("AES-GCM", 20),  # the key, then the 4-byte salt (RFC 4106 §8.1)
    "aes-192-gcm": ("AES-GCM", 28),
    "aes-256-gcm": ("AES-GCM", 36),
}
AUTHS = {  # hmac-sha-256-96 is left out: scapy does not have it
    "none": ("NULL", 0),
    "hmac-md5-96": ("HMAC-MD5-96", 16),
    "hmac-sha1-96": ("HMAC-SHA1-96", 20),
    "hmac-sha-256-128": ("SHA2-256-128", 32),
}
ESP_ICV = {  # for ESP's ICV with ESN: hashlib name, ICV bytes
    "hmac-md5-96": ("md5", 12),
    "hmac-sha1-96": ("sha1", 12),
    "hmac-sha-256-128": ("sha256", 16),
}
SPI, AUX_SPI = 0x3e8, 0x7d0
ESN_START = 2**32 - 2  # with ESN the packets are numbered from here + 1


def inner_packets():
    """Three inner packets of different sizes: ICMP, UDP, and one near 1400 bytes."""
    base = dict(src="198.18.1.10", dst="198.18.2.10", ttl=63, id=0x1234)
    return [
        IP(**base) / ICMP() / Raw(b"picsec" * 3),
        IP(flags="DF", tos=0xb8, **base) / UDP(sport=5000, dport=6000) / Raw(bytes(range(77))),
        IP(**base) / UDP(sport=5001, dport=6001) / Raw(os.urandom(1350)),
    ]


def gcm(enc):
    return enc.endswith("-gcm")


def valid(proto, enc, auth, udp):
    if gcm(enc) and (proto != "esp" or auth != "none"):
        return False  # AEAD: its own integrity, and no bundle's ICV-less ESP
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


def esn_args(esn, seq):
    """scapy's ESN arguments for number seq: on, and the high half."""
    return {"esn_en": True, "esn": seq >> 32} if esn else {}


def seal(sa, pkt, seq, esn):
    """sa wraps pkt as number seq: the low half on the wire (set on the SA, since scapy
    takes a seq_num of 0 for none), the high half through esn."""
    sa.seq_num = seq & 0xffffffff
    return sa.encrypt(IP(bytes(pkt)), **esn_args(esn, seq))


def ah_over_esp(sa, pkt, seq, esn):
    """scapy 2.5 signs AH over a parsed ESP layer as if it were ESP (the ICV stays zero):
    ESP is unbound from IP while AH is added, so the payload stays opaque bytes."""
    split_layers(IP, ESP, proto=50)
    try:
        return seal(sa, pkt, seq, esn)
    finally:
        bind_layers(IP, ESP, proto=50)


def esp_at(raw, udp):
    """Where ESP starts in an outer IPv4 packet."""
    return (raw[0] & 0x0f) * 4 + (8 if udp else 0)


def esn_icv(auth, akey, esp, seq):
    """RFC 4303 §2.2.1: the ICV over the ESP packet up to the ICV, then the high half of
    the sequence number, which is not sent."""
    name, size = ESP_ICV[auth]
    return hmac.new(akey, esp + struct.pack("!L", seq >> 32), name).digest()[:size]


def own_esn_icv(proto, enc, auth, esn):
    """Whether this script makes and checks the ICV (ESP with an HMAC and ESN)."""
    return esn and proto == "esp" and auth != "none" and not gcm(enc)


def run_tool(tool, direction, args, packets):
    out = subprocess.run([tool, direction] + args, input="".join(p.hex() + "\n" for p in packets),
                         capture_output=True, text=True, timeout=60, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"dp_xcheck {direction} {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout.splitlines()


def check(tool, proto, mode, enc, auth, udp, esn):
    ekey = os.urandom(ENCS[enc][1]) if proto != "ah" else b""
    akey = os.urandom(AUTHS[auth][1])
    args = ["--proto", proto, "--enc", enc, "--auth", auth, "--spi", str(SPI),
            "--aux-spi", str(AUX_SPI)]
    first = ESN_START + 1 if esn else 1
    own_icv = own_esn_icv(proto, enc, auth, esn)
    if esn:
        args += ["--esn", "--seq-start", str(ESN_START)]
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
        seq = first + i
        if line.startswith("DROP"):
            failures.append(f"picsec could not wrap packet {i}: {line}")
            continue
        raw = bytes.fromhex(line)
        at = esp_at(raw, udp) + (4 if proto == "esp" else 8)  # the number in ESP or AH
        if raw[at:at + 4] != struct.pack("!L", seq & 0xffffffff):
            failures.append(f"picsec's packet {i} does not carry the low half of {seq}")
        if own_icv:
            esp = raw[esp_at(raw, udp):]
            size = ESP_ICV[auth][1]
            if esp[-size:] != esn_icv(auth, akey, esp[:-size], seq):
                failures.append(f"picsec's packet {i}: not the ICV of number {seq}")
                continue
        pkt = IP(raw)
        try:
            for sa in reversed(sas):
                # Each step parses afresh: scapy leaves an opened AH's payload as Raw.
                pkt = sa.decrypt(IP(bytes(pkt)), verify=not own_icv, **esn_args(esn, seq))
        except Exception as e:  # scapy raises on a bad ICV or padding
            failures.append(f"scapy cannot open picsec's packet {i}: {e!r}")
            continue
        if bytes(pkt) != inner:
            failures.append(f"scapy opened picsec's packet {i} to other bytes")

    # scapy wraps, picsec opens.
    sas = scapy_sas(proto, mode, enc, auth, udp, ekey, akey)
    # With ESN the first one comes last, late, after 2^32 (its high half is the block
    # before the receiver's top: RFC 4303 A2.1's second case).
    seqs = [first + 1, first + 2, first] if esn else [first, first + 1, first + 2]
    wrapped = []
    for seq, inner in zip(seqs, inners):
        pkt = IP(inner)
        for sa in sas:
            pkt = ah_over_esp(sa, pkt, seq, esn) if sa.proto is AH else seal(sa, pkt, seq, esn)
        raw = bytes(pkt)
        if own_icv:
            at, size = esp_at(raw, udp), ESP_ICV[auth][1]
            raw = raw[:-size] + esn_icv(auth, akey, raw[at:-size], seq)
        wrapped.append(raw)
    outs = run_tool(tool, "decap", args + ["--local", GW_B, "--remote", GW_A], wrapped)
    for i, (inner, line) in enumerate(zip(inners, outs)):
        if line.startswith("DROP"):
            failures.append(f"picsec cannot open scapy's packet {i}: {line}")
        elif bytes.fromhex(line) != inner:
            failures.append(f"picsec opened scapy's packet {i} to other bytes")
    return failures


def combinations():
    for esn in (False, True):
        for proto in ("esp", "ah", "bundle"):
            for mode in ("tunnel", "transport"):
                for enc in ENCS:
                    for auth in AUTHS:
                        for udp in (False, True):
                            if valid(proto, enc, auth, udp):
                                yield proto, mode, enc, auth, udp, esn


def main():
    tool = sys.argv[1]
    done = failed = gcm_done = 0
    for proto, mode, enc, auth, udp, esn in combinations():
        name = f"{proto} {mode} {enc} {auth}{' udp' if udp else ''}{' esn' if esn else ''}"
        problems = check(tool, proto, mode, enc, auth, udp, esn)
        done += 1
        gcm_done += gcm(enc)
        if problems:
            failed += 1
            print(f"FAIL {name}")
            for p in problems:
                print(f"     {p}")
        else:
            print(f"ok   {name}")
    print(f"{done} combinations ({gcm_done} with AES-GCM), {failed} failed")
    # 128 CBC and NULL combinations and 12 GCM ones, each with and without ESN.
    if done < 280 or gcm_done < 24:
        print("too few combinations ran")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
