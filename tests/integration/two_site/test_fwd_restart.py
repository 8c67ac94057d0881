#!/usr/bin/python3
"""picsec-fwd (the PIC) killed with SIGKILL on gwA while hostA pings hostB, and started
again: it takes over its leftover XDP programs and service veth, gets its SAs from sadb,
and traffic resumes. No ESP sequence number is sent twice under the key: every number
gwA sent (captured on ps-wan) is unique, and the new PIC starts above the old one's last
report plus the margin. TAP output."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_site as ts  # noqa: E402

RUNDIR = "/run/picsec-two-site/gwA"
MARGIN = 1 << 22  # SADB_SEQ_MARGIN


def fwd_pid():
    with open(os.path.join(RUNDIR, "pids")) as f:
        pids = [int(line.split()[1]) for line in f if line.split()[0].startswith("picsec-fwd")]
    return pids[-1]


def start_fwd():
    out = open(os.path.join(RUNDIR, "picsec-fwd-ms-0-0-0.log"), "a")
    proc = subprocess.Popen(["ip", "netns", "exec", "ps-gwA",
                             os.path.join(ts.BUILD, "forwarder", "picsec-fwd"),
                             "--rundir", RUNDIR, "--pic", "ms-0/0/0"],
                            stdout=out, stderr=out, start_new_session=True)
    with open(os.path.join(RUNDIR, "pids"), "a") as f:
        f.write("picsec-fwd-ms-0/0/0 %d\n" % proc.pid)


def esp_seqs(path):
    from scapy.all import ESP, IP, rdpcap
    return [p[ESP].seq for p in rdpcap(path)
            if IP in p and p[IP].src == "192.0.2.1" and ESP in p and p[ESP].spi == 16000]


def body(tmp):
    ts.topology("up", "--a", ts.config_for("a", "esp", tmp), "--b",
                ts.config_for("b", "esp", tmp))
    ts.ok(ts.wait_for(lambda: ts.sa_states("gwA").count("installed") == 2, 10),
          "gwA's SAs are installed")
    pcap = os.path.join(tmp, "wan.pcap")
    cap = ts.popen("wan", "tcpdump", "-nqi", "br0", "-B", "16384", "-U", "-w", pcap,
                   "esp")
    time.sleep(1)
    ping = ts.popen("hostA", "ping", "-c", "60", "-i", "0.1", "-W", "1",
                    "198.18.2.10")
    time.sleep(2.5)  # beyond one status report (1 s): sadb knows the mark
    os.kill(fwd_pid(), signal.SIGKILL)
    time.sleep(0.5)
    start_fwd()
    out, _ = ping.communicate(timeout=30)
    ts.diag(out.strip().splitlines()[-2])
    time.sleep(0.5)
    cap.terminate()
    cap.communicate(timeout=10)
    seqs = esp_seqs(pcap)
    ts.ok(len(seqs) == len(set(seqs)),
          "%d ESP packets from gwA, no sequence number twice" % len(seqs))
    jump = [(a, b) for a, b in zip(seqs, seqs[1:]) if b != a + 1]
    ts.ok(len(jump) == 1 and jump[0][1] > jump[0][0] + MARGIN // 2,
          "one jump, over the margin, where the PIC restarted: %s" % jump)
    ts.ok(jump != [] and seqs[-1] > jump[0][1] + 10,
          "the new PIC carried traffic after the restart")
    received = int(out.split(" received")[0].split()[-1])
    ts.ok(received >= 40, "%d of 60 pings answered across the restart" % received)


def main():
    ts.tap_main(body)


if __name__ == "__main__":
    main()
