#!/usr/bin/python3
"""Runs deploy/container/compose.yaml with plain podman, for hosts whose compose tool cannot:
Debian 12's podman-compose 1.0.3 drops per-network `ipv4_address` and `interface_name`,
which the gateways need (their configuration names their addresses).

    compose-run.py [-f FILE] [-p NAME] up          networks, volumes, then the services
    compose-run.py [-f FILE] [-p NAME] down [-v]   the services, networks (-v: volumes too)
    compose-run.py [-f FILE] [-p NAME] ps
    compose-run.py [-f FILE] [-p NAME] exec SERVICE CMD...
    compose-run.py probe                           what this host needs podman to be told
    compose-run.py podman ARGS...                  podman with those settings

Only the part of the compose format that compose.yaml uses is read: `name`, networks
(internal, ipam subnet/gateway), named volumes, and per service image, hostname, entrypoint,
command, environment, volumes, tmpfs, cap_add, security_opt, sysctls, restart,
stop_grace_period, depends_on, networks (ipv4_address, interface_name); `${VAR:-default}`
in values; YAML anchors and merge keys. Anything else in a service is refused, not ignored.

Some hosts need podman told more than a compose file says (`probe` tells which and why):
  - cgroups v1 with a cgroup2 hierarchy that holds controllers ("hybrid"): crun refuses to
    start any container ("cgroups in hybrid mode not supported"); runc is used instead;
  - no CAP_SYS_RESOURCE (a container host that is itself a sandbox): podman raises the
    container's RLIMIT_NOFILE and RLIMIT_NPROC above the hard limits and the runtime fails
    with EPERM; the limits are pinned to what this process has.
Every object made is labelled io.picsec.compose.project=NAME."""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LABEL = "io.picsec.compose.project"
SERVICE_KEYS = {"image", "hostname", "entrypoint", "command", "environment", "volumes", "tmpfs",
                "cap_add", "security_opt", "sysctls", "restart", "stop_grace_period",
                "depends_on", "networks", "container_name"}
NPROC_PODMAN = 32768  # podman lowers its own RLIMIT_NPROC to this before it starts a runtime


class Error(Exception):
    pass


# ---------------------------------------------------------------------------- the host

def _cap_eff():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


def _hybrid_with_v2_controllers():
    """cgroups v1 mounted on a tmpfs, cgroup2 beside it in unified/, holding controllers."""
    try:
        with open("/proc/self/mounts") as f:
            mounts = {line.split()[1]: line.split()[2] for line in f}
    except OSError:
        return False
    if mounts.get("/sys/fs/cgroup") != "tmpfs" or mounts.get("/sys/fs/cgroup/unified") != "cgroup2":
        return False
    try:
        with open("/sys/fs/cgroup/unified/cgroup.controllers") as f:
            return f.read().strip() != ""
    except OSError:
        return False


def _which(name):
    for d in os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return None


def probe():
    """(global podman args, run args, reasons): what this host needs podman told."""
    glob, run, why = [], [], []
    if _hybrid_with_v2_controllers():
        ctl = open("/sys/fs/cgroup/unified/cgroup.controllers").read().strip()
        if _which("runc"):
            glob += ["--runtime", "runc"]
            why.append("hybrid cgroups (v1, with controller(s) '%s' in the cgroup2 hierarchy): "
                       "crun refuses them, runc is used" % ctl)
        else:
            raise Error("hybrid cgroups (v1, with controller(s) '%s' in the cgroup2 hierarchy): "
                        "crun refuses to start containers ('cgroups in hybrid mode not "
                        "supported') and runc is not installed (apt-get install runc)" % ctl)
    if not _cap_eff() & (1 << 24):  # CAP_SYS_RESOURCE
        import resource
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
        nproc = NPROC_PODMAN if nproc == resource.RLIM_INFINITY else min(nproc, NPROC_PODMAN)
        if nofile == resource.RLIM_INFINITY:
            nofile = 1048576
        run += ["--ulimit", "nofile=%d:%d" % (nofile, nofile),
                "--ulimit", "nproc=%d:%d" % (nproc, nproc)]
        why.append("no CAP_SYS_RESOURCE: the containers' RLIMIT_NOFILE and RLIMIT_NPROC are "
                   "pinned to %d and %d (podman's defaults are above the hard limits)"
                   % (nofile, nproc))
    return glob, run, why


def podman_cmd(args, host):
    """podman ARGS with the host's settings: global ones first, run ones after run/create."""
    glob, run, _ = host
    args = list(args)
    for i, a in enumerate(args):
        if a in ("run", "create"):
            return ["podman"] + glob + args[:i + 1] + run + args[i + 1:]
        if not a.startswith("-"):
            break
    return ["podman"] + glob + args


def podman(args, host, check=True, capture=False):
    cmd = podman_cmd(args, host)
    r = subprocess.run(cmd, text=True, stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None)
    if check and r.returncode != 0:
        raise Error("%s: exit %d%s" % (" ".join(cmd), r.returncode,
                                       ("\n" + (r.stderr or "").strip()) if capture else ""))
    return r


# ---------------------------------------------------------------------------- the file

_VAR = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value):
    if isinstance(value, str):
        def sub(m):
            if m.group(0) == "$$":
                return "$"
            name = m.group(1) or m.group(4)
            v = os.environ.get(name)
            if m.group(2) == ":-" and not v:
                return m.group(3)
            if m.group(2) == "-" and v is None:
                return m.group(3)
            return v or ""
        return _VAR.sub(sub, value)
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    return value


def load(path):
    try:
        import yaml
    except ImportError:
        raise Error("python3-yaml is not installed (apt-get install python3-yaml)")
    with open(path) as f:
        doc = yaml.safe_load(f)
    doc = interpolate(doc)
    for name, svc in doc.get("services", {}).items():
        unknown = set(svc) - SERVICE_KEYS
        if unknown:
            raise Error("%s: service %s: %s not supported by compose-run.py"
                        % (path, name, ", ".join(sorted(unknown))))
    return doc


def order(services):
    """Services in depends_on order."""
    done, out = set(), []

    def visit(name, path=()):
        if name in done:
            return
        if name in path:
            raise Error("depends_on loop: %s" % " -> ".join(path + (name,)))
        for dep in services[name].get("depends_on", []) or []:
            visit(dep, path + (name,))
        done.add(name)
        out.append(name)
    for name in services:
        visit(name)
    return out


def seconds(text):
    m = re.fullmatch(r"(\d+)(s|m)?", str(text).strip())
    if not m:
        raise Error("stop_grace_period %r: say Ns or Nm" % text)
    return int(m.group(1)) * (60 if m.group(2) == "m" else 1)


def kv_list(value):
    if isinstance(value, dict):
        return ["%s=%s" % (k, "" if v is None else v) for k, v in value.items()]
    return list(value or [])


# ---------------------------------------------------------------------------- the commands

class Project:
    def __init__(self, path, name, host):
        self.path = os.path.abspath(path)
        self.dir = os.path.dirname(self.path)
        self.doc = load(self.path)
        self.name = name or self.doc.get("name") or os.path.basename(self.dir)
        self.host = host

    def container(self, svc):
        return self.doc["services"][svc].get("container_name") or "%s-%s" % (self.name, svc)

    def network(self, net):
        return "%s_%s" % (self.name, net)

    def volume(self, vol):
        return "%s_%s" % (self.name, vol)

    def exists(self, kind, name):
        return podman([kind, "exists", name], self.host, check=False,
                      capture=True).returncode == 0

    def up(self):
        label = "%s=%s" % (LABEL, self.name)
        for net, spec in (self.doc.get("networks") or {}).items():
            spec = spec or {}
            name = self.network(net)
            if self.exists("network", name):
                continue
            args = ["network", "create", "--label", label, "--disable-dns"]
            if spec.get("internal"):
                args.append("--internal")
            for c in (spec.get("ipam") or {}).get("config", []) or []:
                if "subnet" in c:
                    args += ["--subnet", c["subnet"]]
                if "gateway" in c:
                    args += ["--gateway", c["gateway"]]
            podman(args + [name], self.host, capture=True)
            print("network %s" % name)
        for vol in (self.doc.get("volumes") or {}):
            if not self.exists("volume", self.volume(vol)):
                podman(["volume", "create", "--label", label, self.volume(vol)], self.host,
                       capture=True)
        services = self.doc.get("services") or {}
        for svc in order(services):
            self.run(svc, services[svc], label)

    def run(self, svc, spec, label):
        name = self.container(svc)
        if self.exists("container", name):
            podman(["rm", "-f", "-t", "3", name], self.host, capture=True)
        args = ["run", "-d", "--name", name, "--label", label,
                "--label", "io.picsec.compose.service=" + svc]
        if spec.get("hostname"):
            args += ["--hostname", spec["hostname"]]
        for c in spec.get("cap_add", []) or []:
            args += ["--cap-add", c]
        for s in spec.get("security_opt", []) or []:
            args += ["--security-opt", s]
            if s.startswith("seccomp=") and s != "seccomp=unconfined" and \
                    not os.path.exists(s[len("seccomp="):]):
                raise Error("%s: no %s (deploy/container/build-image.sh writes it)"
                            % (svc, s[len("seccomp="):]))
        for s in kv_list(spec.get("sysctls")):
            args += ["--sysctl", s]
        for t in spec.get("tmpfs", []) or []:
            args += ["--tmpfs", t]
        for e in kv_list(spec.get("environment")):
            args += ["-e", e]
        named = self.doc.get("volumes") or {}
        for v in spec.get("volumes", []) or []:
            src, _, rest = v.partition(":")
            if src in named:
                src = self.volume(src)
            else:
                src = os.path.normpath(os.path.join(self.dir, src))
                if not os.path.exists(src):
                    raise Error("%s: volume source %s does not exist" % (svc, src))
            args += ["-v", src + ":" + rest]
        if spec.get("restart"):
            args += ["--restart", spec["restart"]]
        if spec.get("stop_grace_period"):
            args += ["--stop-timeout", str(seconds(spec["stop_grace_period"]))]
        nets = spec.get("networks") or {}
        if isinstance(nets, list):
            nets = {n: None for n in nets}
        for net, opts in nets.items():
            o = []
            if opts and opts.get("ipv4_address"):
                o.append("ip=" + opts["ipv4_address"])
            if opts and opts.get("interface_name"):
                o.append("interface_name=" + opts["interface_name"])
            args += ["--network", self.network(net) + (":" + ",".join(o) if o else "")]
        if not nets:
            args += ["--network", "none"]
        ep = spec.get("entrypoint")
        if ep is not None:
            args += ["--entrypoint", json.dumps(ep if isinstance(ep, list) else ep.split())]
        args.append(spec["image"])
        cmd = spec.get("command")
        if cmd is not None:
            args += cmd if isinstance(cmd, list) else cmd.split()
        podman(args, self.host, capture=True)
        print("container %s" % name)

    def objects(self, kind):
        fmt = {"ps": "{{.Names}}", "network": "{{.Name}}", "volume": "{{.Name}}"}[kind]
        args = ["ps", "-a"] if kind == "ps" else [kind, "ls"]
        r = podman(args + ["--filter", "label=%s=%s" % (LABEL, self.name), "--format", fmt],
                   self.host, check=False, capture=True)
        return [x for x in r.stdout.split() if x] if r.returncode == 0 else []

    def down(self, volumes):
        services = self.doc.get("services") or {}
        mine = self.objects("ps")
        known = [self.container(s) for s in reversed(order(services))]
        for name in known + [n for n in mine if n not in known]:
            if name in mine or self.exists("container", name):
                podman(["rm", "-f", "-t", "3", name], self.host, check=False, capture=True)
                print("removed container %s" % name)
        for net in self.objects("network"):
            podman(["network", "rm", "-f", net], self.host, check=False, capture=True)
            print("removed network %s" % net)
        if volumes:
            for vol in self.objects("volume"):
                podman(["volume", "rm", "-f", vol], self.host, check=False, capture=True)
                print("removed volume %s" % vol)


def main(argv):
    path, name, args = os.path.join(HERE, "compose.yaml"), None, list(argv)
    while args and args[0].startswith("-"):
        if args[0] == "-f" and len(args) > 1:
            path, args = args[1], args[2:]
        elif args[0] == "-p" and len(args) > 1:
            name, args = args[1], args[2:]
        elif args[0] in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            raise Error("unknown option %s (--help)" % args[0])
    if not args:
        print(__doc__)
        return 2
    cmd, rest = args[0], args[1:]
    host = probe()
    if cmd == "probe":
        for w in host[2]:
            print("# " + w)
        print(" ".join(podman_cmd(["run"], host)))
        return 0
    if cmd == "podman":
        return subprocess.run(podman_cmd(rest, host)).returncode
    proj = Project(path, name, host)
    if cmd == "up":
        proj.up()
    elif cmd == "down":
        proj.down("-v" in rest)
    elif cmd == "ps":
        return podman(["ps", "-a", "--filter", "label=%s=%s" % (LABEL, proj.name)],
                      host, check=False).returncode
    elif cmd == "exec" and len(rest) >= 2:
        if rest[0] not in (proj.doc.get("services") or {}):
            raise Error("no service %s in %s" % (rest[0], path))
        return subprocess.run(podman_cmd(["exec", proj.container(rest[0])] + rest[1:],
                                         host)).returncode
    else:
        raise Error("unknown command %s (--help)" % " ".join(args))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Error as e:
        print("compose-run.py: %s" % e, file=sys.stderr)
        sys.exit(1)
