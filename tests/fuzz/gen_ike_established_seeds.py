#!/usr/bin/env python3
"""Writes the seeds of fuzz_ike_established (tests/fuzz/corpus/fuzz_ike_established).

A seed is what the target reads: a control byte, the first inner payload's type, and the
inner payload chain that the target seals under the sender's keys (see the top of
fuzz_ike_established.c for the control byte). The values match the target's setup: a
(initiator, 198.18.1.0/24) and b (responder, 198.18.2.0/24), first Child SA inbound SPIs
0x1001 (a) and 0x1002 (b), the proposals it configures.

    tests/fuzz/gen_ike_established_seeds.py [OUTPUT_DIR]
"""
import os
import struct
import sys

CREATE, RESPONSE, FROM_B, TAKE = 0x01, 0x02, 0x04, 0x40
# The receiver's own request first (bits 3-5).
OWN_NONE, OWN_LIVENESS, OWN_REKEY_CHILD, OWN_REKEY_IKE, OWN_DELETE_CHILD, OWN_DELETE_IKE = range(6)
# Answering: INFORMATIONAL: liveness 0, Child SA Delete 1, IKE SA Delete 2 (mod 3);
# CREATE_CHILD_SA: Child SA rekey 0, IKE SA rekey 1 (mod 2).
ANS_DELETE_CHILD, ANS_REKEY_IKE = 1, 1

PL_SA, PL_KE, PL_NONCE, PL_NOTIFY, PL_DELETE, PL_TSI, PL_TSR = 33, 34, 40, 41, 42, 44, 45
PROTO_IKE, PROTO_ESP = 1, 3
TF_ENCR, TF_PRF, TF_INTEG, TF_DH, TF_ESN = 1, 2, 3, 4, 5
N_INVALID_KE_PAYLOAD, N_REKEY_SA = 17, 16393
SPI_A, SPI_B = 0x1001, 0x1002
NET_A, NET_B = bytes([198, 18, 1]), bytes([198, 18, 2])
X25519_BASE = bytes([9]) + bytes(31)  # a valid public value (the base point)
NONCE = bytes(range(0x40, 0x60))

# Transforms: (type, id, key length or 0).
IKE_CBC = [(TF_ENCR, 12, 128), (TF_PRF, 5, 0), (TF_INTEG, 12, 0), (TF_DH, 31, 0)]
IKE_GCM = [(TF_ENCR, 20, 256), (TF_PRF, 6, 0), (TF_DH, 31, 0)]
ESP_CBC = [(TF_ENCR, 12, 128), (TF_INTEG, 2, 0), (TF_ESN, 0, 0)]
ESP_GCM_PFS = [(TF_ENCR, 20, 128), (TF_DH, 31, 0), (TF_ESN, 0, 0)]


def chain(payloads):
    """(first type, bytes) of a chain of (type, body) payloads."""
    out = b""
    for i, (_, body) in enumerate(payloads):
        nxt = payloads[i + 1][0] if i + 1 < len(payloads) else 0
        out += struct.pack("!BBH", nxt, 0, 4 + len(body)) + body
    return (payloads[0][0] if payloads else 0), out


def proposal(number, protocol, spi, transforms, last=True):
    tfs = b""
    for i, (ttype, tid, klen) in enumerate(transforms):
        attr = struct.pack("!HH", 0x8000 | 14, klen) if klen else b""
        tfs += struct.pack("!BBHBBH", 0 if i + 1 == len(transforms) else 3, 0, 8 + len(attr),
                           ttype, 0, tid) + attr
    body = struct.pack("!BBBB", number, protocol, len(spi), len(transforms)) + spi + tfs
    return struct.pack("!BBH", 0 if last else 2, 0, 4 + len(body)) + body


def sa(*proposals):
    return (PL_SA, b"".join(proposal(*p, last=i + 1 == len(proposals))
                            for i, p in enumerate(proposals)))


def ke(group, data):
    return (PL_KE, struct.pack("!HH", group, 0) + data)


def nonce():
    return (PL_NONCE, NONCE)


def notify(protocol, ntype, spi=b"", data=b""):
    return (PL_NOTIFY, struct.pack("!BBH", protocol, len(spi), ntype) + spi + data)


def delete(protocol, spis=()):
    size = 0 if protocol == PROTO_IKE else 4
    return (PL_DELETE, struct.pack("!BBH", protocol, size, len(spis)) +
            b"".join(struct.pack("!I", s) for s in spis))


def ts(initiator, net):
    sel = struct.pack("!BBHHH", 7, 0, 16, 0, 65535) + net + b"\x00" + net + b"\xff"
    return (PL_TSI if initiator else PL_TSR, struct.pack("!BBH", 1, 0, 0) + sel)


def spi32(v):
    return struct.pack("!I", v)


def seed(ctl, payloads):
    first, body = chain(payloads)
    return bytes([ctl, first]) + body


def seeds():
    # Requests from a to b (b answers): b's outbound SPI is a's inbound, 0x1001.
    yield "req-info-empty", seed(0, [])
    yield "req-info-delete-ike", seed(0, [delete(PROTO_IKE)])
    yield "req-info-delete-child", seed(0, [delete(PROTO_ESP, [SPI_A])])
    rekey_child = [notify(PROTO_ESP, N_REKEY_SA, spi32(SPI_A)),
                   sa((1, PROTO_ESP, spi32(0x3001), ESP_CBC)), nonce(),
                   ts(True, NET_A), ts(False, NET_B)]
    yield "req-create-rekey-child", seed(CREATE, rekey_child)
    yield "req-create-rekey-child-pfs", seed(CREATE, [
        notify(PROTO_ESP, N_REKEY_SA, spi32(SPI_A)),
        sa((1, PROTO_ESP, spi32(0x3001), ESP_GCM_PFS)), nonce(), ke(31, X25519_BASE),
        ts(True, NET_A), ts(False, NET_B)])
    rekey_ike = [sa((1, PROTO_IKE, bytes(range(1, 9)), IKE_CBC)), nonce(), ke(31, X25519_BASE)]
    yield "req-create-rekey-ike", seed(CREATE, rekey_ike)
    # b rekeys the IKE SA meanwhile too (§2.8.2), its rekeyed IKE SAs taken after every
    # message as picsec-iked does. The same without TAKE (ctl 0x19) is a known failure for
    # now: the engine's second rekeyed IKE SA overwrites the first, which leaks with the
    # Child SA in it; add it as a regression seed once that is fixed.
    yield "req-create-rekey-ike-collision-take", seed(CREATE | OWN_REKEY_IKE << 3 | TAKE,
                                                      rekey_ike)
    # b rekeys the same Child SA meanwhile (its request crosses a's): §2.8.1.
    yield "req-create-rekey-child-collision", seed(CREATE | OWN_REKEY_CHILD << 3, rekey_child)
    # b is deleting the IKE SA: a CREATE_CHILD_SA is refused, a Delete answered.
    yield "req-create-while-deleting", seed(CREATE | OWN_DELETE_IKE << 3, rekey_child)
    # From b to a: a's outbound SPI is b's inbound, 0x1002.
    yield "req-info-delete-child-from-b", seed(FROM_B, [delete(PROTO_ESP, [SPI_B])])

    # Responses from b to a request of a's (a's own SA, TS: a's local is TSi).
    yield "resp-info-liveness", seed(RESPONSE | FROM_B, [])
    yield "resp-info-delete-child", seed(RESPONSE | FROM_B | ANS_DELETE_CHILD << 3,
                                         [delete(PROTO_ESP, [SPI_B])])
    yield "resp-create-rekey-child", seed(RESPONSE | FROM_B | CREATE, [
        sa((1, PROTO_ESP, spi32(0x3002), ESP_CBC)), nonce(), ts(True, NET_A),
        ts(False, NET_B)])
    yield "resp-create-rekey-child-pfs", seed(RESPONSE | FROM_B | CREATE, [
        sa((2, PROTO_ESP, spi32(0x3002), ESP_GCM_PFS)), nonce(), ke(31, X25519_BASE),
        ts(True, NET_A), ts(False, NET_B)])
    yield "resp-create-invalid-ke", seed(RESPONSE | FROM_B | CREATE, [
        notify(0, N_INVALID_KE_PAYLOAD, data=struct.pack("!H", 19))])
    yield "resp-create-rekey-ike", seed(RESPONSE | FROM_B | CREATE | ANS_REKEY_IKE << 3, [
        sa((1, PROTO_IKE, bytes(range(0x11, 0x19)), IKE_CBC)), nonce(), ke(31, X25519_BASE)])
    yield "resp-create-rekey-ike-take", seed(
        RESPONSE | FROM_B | CREATE | ANS_REKEY_IKE << 3 | TAKE, [
            sa((1, PROTO_IKE, bytes(range(0x11, 0x19)), IKE_CBC)), nonce(), ke(31, X25519_BASE)])
    yield "resp-create-rekey-ike-gcm", seed(RESPONSE | FROM_B | CREATE | ANS_REKEY_IKE << 3, [
        sa((2, PROTO_IKE, bytes(range(0x11, 0x19)), IKE_GCM)), nonce(), ke(31, X25519_BASE)])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus",
                                                                 "fuzz_ike_established")
    os.makedirs(outdir, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
