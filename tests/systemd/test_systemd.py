#!/usr/bin/python3
"""The systemd deployment (deploy/systemd), one check per run, TAP on stdout:

  verify    systemd-analyze verify passes, silently, on every unit (the ExecStart paths pointed
            at the build tree, so that they exist); the PIC instance turns into its --pic
  security  systemd-analyze security --offline=true: exposure at most 4.0 for the PIC and
            2.5 for every other unit
  notify    every daemon, started by hand with a fake NOTIFY_SOCKET and WATCHDOG_USEC, says
            READY=1 with a STATUS=, WATCHDOG=1 at half the interval, STOPPING=1 on SIGTERM,
            all from its main pid, and exits 0
  install   meson install --destdir puts binaries, units, tmpfiles.d, sysusers.d and the
            examples where they belong; systemd-sysusers and systemd-tmpfiles accept the
            installed files and make the user and directories; the installed units verify
  boot      (root) a real systemd, PID 1 of new namespaces, runs picsec.target and a PIC
            from the installed units: every daemon becomes active as picsec with the
            capabilities its unit gives and no others, answers on the bus, the PIC sets up a
            service set, a killed or hung daemon is restarted, stopping the target stops all

Run by meson (`meson test --suite systemd`) with PICSEC_BUILD set to the build directory.
"""
import json
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get('PICSEC_BUILD') or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', '..', 'build')
BUILD = os.path.abspath(BUILD)
SOURCE = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
UNITS_BUILT = os.path.join(BUILD, 'deploy', 'systemd')

UNITS = ['picsec.target', 'picsec-busd.service', 'picsec-configd.service',
         'picsec-sadb.service', 'picsec-fwd@.service', 'picsec-iked.service',
         'picsec-healthd.service', 'picsec-metricsd.service']
DAEMONS = ['picsec-busd', 'picsec-configd', 'picsec-sadb', 'picsec-iked', 'picsec-fwd',
           'picsec-healthd', 'picsec-metricsd']
TOOLS = ['picsec', 'picsec-busmon']
# Daemons that other people are still writing: the notify check skips them, loudly, while
# their binaries do not exist.
OPTIONAL = {'picsec-healthd', 'picsec-metricsd'}
LIMIT = {'picsec-fwd@.service': 4.0}
DEFAULT_LIMIT = 2.5
# What each unit's main process may hold (CapEff), for the boot check.
CAPS = {
    'picsec-fwd@ms-0-0-0.service': {'cap_net_admin', 'cap_net_raw', 'cap_bpf',
                                    'cap_ipc_lock'},
    'picsec-iked.service': {'cap_net_bind_service'},
}


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, detail=''):
        self.n += 1
        if not cond:
            self.failed += 1
        print('%s %d - %s' % ('ok' if cond else 'not ok', self.n, what), flush=True)
        if detail and (not cond or os.environ.get('VERBOSE')):
            self.diag(detail)
        return cond

    def skip(self, what, why):
        self.n += 1
        print('ok %d - %s # SKIP %s' % (self.n, what, why), flush=True)

    @staticmethod
    def diag(text):
        for line in str(text).rstrip().splitlines():
            print('# ' + line, flush=True)

    def done(self):
        print('1..%d' % self.n, flush=True)
        sys.exit(1 if self.failed else 0)


def run(cmd, **kw):
    kw.setdefault('stdout', subprocess.PIPE)
    kw.setdefault('stderr', subprocess.STDOUT)
    kw.setdefault('text', True)
    kw.setdefault('timeout', 60)
    return subprocess.run(cmd, check=False, **kw)


def introspect(what):
    out = run(['meson', 'introspect', BUILD, '--' + what], stderr=subprocess.PIPE)
    if out.returncode != 0:
        raise RuntimeError('meson introspect --%s: %s' % (what, out.stderr))
    return json.loads(out.stdout)


def built_binaries():
    """{'picsec-busd': '/…/build/services/busd/picsec-busd', …} for the executables."""
    found = {}
    for t in introspect('targets'):
        if t['type'] == 'executable' and t['name'] in DAEMONS + TOOLS:
            found[t['name']] = t['filename'][0]
    return found


def options():
    return {o['name']: o['value'] for o in introspect('buildoptions')}


def exec_line(text):
    for line in text.splitlines():
        if line.startswith('ExecStart='):
            return line[len('ExecStart='):]
    return None


def point_exec_at(text, paths):
    """The unit with every absolute …/picsec-NAME in ExecStart= replaced by paths[NAME]."""
    def repl(m):
        name = m.group(2)
        return paths.get(name, m.group(0))
    out = []
    for line in text.splitlines(True):
        if line.startswith('ExecStart='):
            line = re.sub(r'(/[^\s\'"]*/)(picsec-[a-z]+)\b', repl, line)
        out.append(line)
    return ''.join(out)


def analyze_verify(tap, unit_dir, units, label):
    for unit in units:
        r = run(['systemd-analyze', 'verify', '--man=no', os.path.join(unit_dir, unit)],
                cwd=unit_dir)
        tap.ok(r.returncode == 0 and r.stdout.strip() == '',
               'verify %s (%s)' % (unit, label),
               'rc %d\n%s' % (r.returncode, r.stdout))


def fwd_pic_of(exec_start, instance):
    """What the PIC unit's ExecStart gives picsec-fwd for INSTANCE: its argv after the
    program, run through sh exactly as systemd would hand it over (%i, $$)."""
    argv = shlex.split(exec_start.replace('%i', instance).replace('$$', '$'))
    assert argv[0] == '/bin/sh' and argv[1] == '-c', argv
    script = re.sub(r'exec \S+/picsec-fwd', 'printf "%s\\n"', argv[2])
    r = run(['/bin/sh', '-c', script])
    return r.stdout.split('\n')[:-1]


# ------------------------------------------------------------------------------ verify

def check_verify(tap):
    bins = built_binaries()
    tmp = tempfile.mkdtemp(prefix='picsec-verify-')
    try:
        for unit in UNITS:
            with open(os.path.join(UNITS_BUILT, unit)) as f:
                text = point_exec_at(f.read(), bins)
            with open(os.path.join(tmp, unit), 'w') as f:
                f.write(text)
        shutil.copy(os.path.join(tmp, 'picsec-fwd@.service'),
                    os.path.join(tmp, 'picsec-fwd@ms-0-0-0.service'))
        missing = [d for d in DAEMONS if d not in bins]
        tap.ok(not missing, 'every daemon is a target of the build', 'missing: %s' % missing)
        analyze_verify(tap, tmp, UNITS + ['picsec-fwd@ms-0-0-0.service'], 'build tree')
        # A unit that is wrong must fail: the check itself is not blind.
        with open(os.path.join(tmp, 'picsec-busd.service')) as f:
            text = f.read()
        with open(os.path.join(tmp, 'broken.service'), 'w') as f:
            f.write(text.replace('ProtectHome=yes', 'ProtectHome=yes\nProtectHomme=yes'))
        r = run(['systemd-analyze', 'verify', '--man=no', os.path.join(tmp, 'broken.service')],
                cwd=tmp)
        tap.ok('ProtectHomme' in r.stdout, 'verify reports an unknown key', r.stdout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    with open(os.path.join(UNITS_BUILT, 'picsec-fwd@.service')) as f:
        exec_start = exec_line(f.read())
    for instance, pic in [('ms-0-0-0', 'ms-0/0/0'), ('ms-1-2-0', 'ms-1/2/0'),
                          ('sp-10-0-3', 'sp-10/0/3')]:
        argv = fwd_pic_of(exec_start, instance)
        got = argv[argv.index('--pic') + 1] if '--pic' in argv else None
        tap.ok(got == pic, 'picsec-fwd@%s.service runs picsec-fwd --pic %s' % (instance, pic),
               'argv %s' % argv)


# ---------------------------------------------------------------------------- security

def check_security(tap):
    for unit in UNITS:
        if not unit.endswith('.service'):
            continue
        limit = LIMIT.get(unit, DEFAULT_LIMIT)
        r = run(['systemd-analyze', 'security', '--offline=true', '--no-pager',
                 os.path.join(UNITS_BUILT, unit)])
        m = re.search(r'Overall exposure level for \S+: ([0-9.]+)', r.stdout)
        if not m:
            tap.ok(False, 'security %s' % unit, r.stdout)
            continue
        score = float(m.group(1))
        tap.ok(score <= limit, 'security %s: exposure %.1f (at most %.1f)' %
               (unit, score, limit),
               '\n'.join(l for l in r.stdout.splitlines() if l.startswith('✗')))


# ------------------------------------------------------------------------------ notify

class Notify:
    """A fake NOTIFY_SOCKET that notes each datagram with its sender's pid."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(path)
        self.msgs = []  # (time, pid, text)

    def poll(self, until):
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            self.sock.settimeout(left)
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except socket.timeout:
                return
            pid = None
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack('iII', payload[:12])[0]
            self.msgs.append((time.monotonic(), pid, data.decode(errors='replace')))

    def wait_for(self, pred, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for m in self.msgs:
                if pred(m[2]):
                    return m
            self.poll(min(end, time.monotonic() + 0.05))
        for m in self.msgs:
            if pred(m[2]):
                return m
        return None

    def close(self):
        self.sock.close()


def wants_netns():
    return os.geteuid() == 0 and shutil.which('unshare') is not None


def notify_one(tap, name, argv, env_extra, workdir, netns=False):
    """Starts argv as a systemd service would be (NOTIFY_SOCKET, WATCHDOG_USEC and
    WATCHDOG_PID of its own pid) and checks what it says."""
    sock_path = os.path.join(workdir, 'notify-%s' % name)
    n = Notify(sock_path)
    env = dict(os.environ)
    env.update(env_extra)
    env.update({'NOTIFY_SOCKET': sock_path, 'WATCHDOG_USEC': '400000'})
    # sh execs (and unshare without --fork execs too): the daemon keeps sh's pid, which is
    # what WATCHDOG_PID must name.
    wrapper = ['/bin/sh', '-c', 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', 'sh']
    if netns:
        wrapper += ['unshare', '--net']
    log_path = os.path.join(workdir, name + '.log')
    log = open(log_path, 'w')
    p = subprocess.Popen(wrapper + argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    try:
        ready = n.wait_for(lambda t: 'READY=1' in t.split('\n'), 10)
        if not tap.ok(ready is not None, '%s: READY=1' % name, open(log_path).read()):
            return
        tap.ok(ready[1] == p.pid, '%s: READY=1 comes from the main pid %d' % (name, p.pid),
               'sender pid %s' % ready[1])
        status = [l for l in ready[2].split('\n') if l.startswith('STATUS=')]
        tap.ok(bool(status) and len(status[0]) > len('STATUS='),
               '%s: STATUS= with READY=1 (%s)' % (name, status[0] if status else 'none'),
               repr(ready[2]))
        start = ready[0]
        n.poll(start + 1.0)
        pings = [m for m in n.msgs if m[2] == 'WATCHDOG=1' and start <= m[0] <= start + 1.0]
        tap.ok(len(pings) >= 3, '%s: %d WATCHDOG=1 in 1 s (WATCHDOG_USEC 400 ms)' %
               (name, len(pings)), repr(n.msgs[-10:]))
        tap.ok(all(m[1] == p.pid for m in pings), '%s: WATCHDOG=1 from the main pid' % name,
               repr(pings))
        tap.ok(p.poll() is None, '%s: still running' % name, open(log_path).read())
        p.send_signal(signal.SIGTERM)
        stopping = n.wait_for(lambda t: t == 'STOPPING=1' or 'STOPPING=1' in t.split('\n'),
                              5)
        tap.ok(stopping is not None and stopping[1] == p.pid,
               '%s: STOPPING=1 on SIGTERM' % name, repr(n.msgs[-5:]))
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        tap.ok(rc == 0, '%s: exits 0 after SIGTERM' % name,
               'rc %s\n%s' % (rc, open(log_path).read()))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        log.close()
        n.close()


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_socket(path, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.05)
    return False


def check_notify(tap):
    bins = built_binaries()
    work = tempfile.mkdtemp(prefix='picsec-notify-')
    bus = None
    try:
        # busd itself, in a runtime directory of its own.
        r0 = os.path.join(work, 'bus0')
        os.mkdir(r0)
        notify_one(tap, 'picsec-busd', [bins['picsec-busd'], '--rundir', r0], {}, work)

        # The others on a busd of their own.
        rundir = os.path.join(work, 'run')
        state = os.path.join(work, 'state')
        os.mkdir(rundir)
        os.mkdir(state)
        bus_log = open(os.path.join(work, 'bus.log'), 'w')
        bus = subprocess.Popen([bins['picsec-busd'], '--rundir', rundir], stdout=bus_log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if not tap.ok(wait_socket(os.path.join(rundir, 'requests.sock'), 5),
                      'a busd for the others'):
            return
        netns = wants_netns()
        if not netns:
            tap.diag('not root or no unshare: picsec-fwd and picsec-iked run in this network '
                     'namespace')
        cases = [
            ('picsec-configd', ['--rundir', rundir, '--statedir', state], False),
            ('picsec-sadb', ['--rundir', rundir, '--statedir', state], False),
            # In a network namespace of their own, so that nothing of theirs can touch the
            # host's devices or ports: they get READY without any device or address.
            ('picsec-fwd', ['--rundir', rundir, '--pic', 'ms-0/0/0'], netns),
            ('picsec-iked', ['--rundir', rundir], netns),
            ('picsec-healthd', ['--rundir', rundir], False),
            ('picsec-metricsd', ['--rundir', rundir, '--listen', '127.0.0.1:%d' % free_port()],
             False),
        ]
        for name, args, in_netns in cases:
            path = bins.get(name)
            if path is None or not os.path.exists(path):
                if name in OPTIONAL:
                    tap.skip('%s: sd_notify' % name, 'SKIPPED: %s is not built yet (%s)' %
                             (name, path or 'no such target'))
                    continue
                tap.ok(False, '%s: sd_notify' % name, 'binary missing: %s' % path)
                continue
            notify_one(tap, name, [path] + args, {}, work, netns=in_netns)
    finally:
        if bus is not None:
            bus.terminate()
            try:
                bus.wait(5)
            except subprocess.TimeoutExpired:
                bus.kill()
                bus.wait()
        shutil.rmtree(work, ignore_errors=True)


# ----------------------------------------------------------------------------- install

def systemd_dir(var, prefix, fallback):
    """Where deploy/systemd/meson.build puts VAR's files: systemd.pc's directory with its
    prefix (or Debian's rootprefix) made ours, else FALLBACK under the prefix."""
    for define in ['prefix', 'rootprefix']:
        r = run(['pkg-config', '--define-variable=%s=%s' % (define, prefix), '--variable=' + var,
                 'systemd'], stderr=subprocess.DEVNULL)
        value = r.stdout.strip()
        if r.returncode == 0 and value.startswith(prefix + '/'):
            return value
    return os.path.join(prefix, fallback)


def meson_install(destdir):
    return run(['meson', 'install', '-C', BUILD, '--no-rebuild', '--quiet', '--destdir',
                destdir], timeout=300)


def check_install(tap):
    opts = options()
    prefix = opts['prefix']
    sbindir = os.path.join(prefix, opts['sbindir'])
    bindir = os.path.join(prefix, opts['bindir'])
    docdir = os.path.join(prefix, opts['datadir'], 'doc', 'picsec')
    unitdir = systemd_dir('systemdsystemunitdir', prefix, 'lib/systemd/system')
    tmpfilesdir = systemd_dir('tmpfilesdir', prefix, 'lib/tmpfiles.d')
    sysusersdir = systemd_dir('sysusersdir', prefix, 'lib/sysusers.d')
    dest = tempfile.mkdtemp(prefix='picsec-install-')

    def at(path):
        return dest + path

    try:
        r = meson_install(dest)
        if not tap.ok(r.returncode == 0, 'meson install --destdir %s' % dest, r.stdout):
            return
        for name in DAEMONS:
            path = os.path.join(sbindir, name)
            tap.ok(os.access(at(path), os.X_OK), 'installed %s' % path)
        for name in TOOLS:
            path = os.path.join(bindir, name)
            tap.ok(os.access(at(path), os.X_OK), 'installed %s' % path)
        for unit in UNITS:
            path = os.path.join(unitdir, unit)
            if not tap.ok(os.path.isfile(at(path)), 'installed %s' % path):
                continue
            with open(at(path)) as f:
                text = f.read()
            left = re.findall(r'@[A-Z_]+@', text)
            tap.ok(not left, '%s: every @VARIABLE@ substituted' % unit, repr(left))
            ex = exec_line(text)
            if ex is not None:
                progs = re.findall(r'(/[^\s\'"]*/picsec-[a-z]+)\b', ex)
                tap.ok(bool(progs) and all(os.access(at(p), os.X_OK) for p in progs),
                       '%s runs %s, installed' % (unit, ' '.join(progs)), ex)
            docs = re.findall(r'^Documentation=file:(\S+)', text, re.M)
            tap.ok(bool(docs) and all(os.path.isfile(at(d)) for d in docs),
                   '%s: its Documentation= is installed' % unit, repr(docs))
        tmpfiles = os.path.join(tmpfilesdir, 'picsec.conf')
        sysusers = os.path.join(sysusersdir, 'picsec.conf')
        tap.ok(os.path.isfile(at(tmpfiles)), 'installed %s' % tmpfiles)
        tap.ok(os.path.isfile(at(sysusers)), 'installed %s' % sysusers)
        examples = sorted(f for f in os.listdir(os.path.join(SOURCE, 'config', 'examples'))
                          if f.endswith('.conf'))
        missing = [f for f in examples
                   if not os.path.isfile(at(os.path.join(docdir, 'examples', f)))]
        tap.ok(examples and not missing, 'the %d example configurations are in %s/examples' %
               (len(examples), docdir), 'missing: %s' % missing)

        # The user and directories, made by systemd's own tools in a scratch root.
        root = os.path.join(dest, 'scratch-root')
        os.makedirs(os.path.join(root, 'etc'))
        r = run(['systemd-sysusers', '--root=' + root, at(sysusers)])
        passwd = open(os.path.join(root, 'etc', 'passwd')).read() \
            if os.path.exists(os.path.join(root, 'etc', 'passwd')) else ''
        m = re.search(r'^picsec:x:(\d+):(\d+):', passwd, re.M)
        tap.ok(r.returncode == 0 and m is not None, 'systemd-sysusers makes picsec',
               r.stdout + passwd)
        if os.geteuid() != 0:
            tap.skip('systemd-tmpfiles --create', 'not root: it could not chown')
            return
        r = run(['systemd-tmpfiles', '--root=' + root, '--create', at(tmpfiles)])
        tap.ok(r.returncode == 0, 'systemd-tmpfiles --create', r.stdout)
        with open(at(tmpfiles)) as f:
            wanted = [l.split()[1:5] for l in f if l.startswith('d ')]
        for path, mode, user, group in wanted:
            st = os.stat(root + path) if os.path.exists(root + path) else None
            tap.ok(st is not None and m is not None and
                   (st.st_mode & 0o7777) == int(mode, 8) and
                   st.st_uid == int(m.group(1)) and st.st_gid == int(m.group(2)),
                   'tmpfiles made %s %s %s:%s' % (path, mode, user, group),
                   repr(st))

        # The installed units verify, pointed at the installed binaries.
        vdir = os.path.join(dest, 'verify')
        os.mkdir(vdir)
        paths = {name: at(os.path.join(sbindir, name)) for name in DAEMONS}
        for unit in UNITS:
            with open(at(os.path.join(unitdir, unit))) as f:
                text = point_exec_at(f.read(), paths)
            with open(os.path.join(vdir, unit), 'w') as f:
                f.write(text)
        shutil.copy(os.path.join(vdir, 'picsec-fwd@.service'),
                    os.path.join(vdir, 'picsec-fwd@ms-0-0-0.service'))
        analyze_verify(tap, vdir, UNITS + ['picsec-fwd@ms-0-0-0.service'], 'installed')
    finally:
        shutil.rmtree(dest, ignore_errors=True)


# -------------------------------------------------------------------------------- boot

BOOT_SH = r'''
set -e
mount -t proc proc /proc
mount -t sysfs sysfs /sys
# cgroup2 mounted in our cgroup namespace: systemd's tree stays under the test's cgroup.
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=755 tmpfs /var/lib
for pair in $BINDS; do mount --bind "${pair%%=*}" "${pair#*=}"; done
hostname picsec-boot-test
export container=picsec-test SYSTEMD_UNIT_PATH="$UNITS"
exec /lib/systemd/systemd --system --log-level=notice --unit=picsec.target --show-status=no
'''

STUB_TARGETS = ['default', 'sysinit', 'basic', 'sockets', 'timers', 'paths', 'slices',
                'shutdown', 'multi-user', 'network', 'network-online', 'network-pre',
                'local-fs', 'swap', 'final', 'umount', 'poweroff', 'exit', 'emergency',
                'rescue']


def boot_usable():
    if os.geteuid() != 0:
        return 'not root'
    for tool in ['unshare', 'nsenter', 'ip']:
        if shutil.which(tool) is None:
            return 'no %s' % tool
    if not os.path.exists('/lib/systemd/systemd'):
        return 'no /lib/systemd/systemd'
    if not os.path.isdir('/sys/fs/cgroup/unified') and \
            not os.path.exists('/sys/fs/cgroup/cgroup.controllers'):
        return 'no cgroup2 hierarchy'
    return None


def cgroup2_root():
    if os.path.exists('/sys/fs/cgroup/cgroup.controllers'):
        return '/sys/fs/cgroup'
    return '/sys/fs/cgroup/unified'


def own_cgroup2():
    with open('/proc/self/cgroup') as f:
        for line in f:
            if line.startswith('0::'):
                return line[3:].strip()
    return '/'


class Booted:
    """systemd as PID 1 of new pid, mount, net, uts, ipc and cgroup namespaces."""

    def __init__(self, work, dest, opts):
        self.work = work
        self.dest = dest
        self.cgroup = os.path.join(cgroup2_root(), own_cgroup2().lstrip('/'),
                                   'picsec-boot-%d' % os.getpid())
        self.proc = None
        self.pid1 = None
        prefix = opts['prefix']
        self.sbindir = os.path.join(prefix, opts['sbindir'])
        self.bindir = os.path.join(prefix, opts['bindir'])
        self.logdir = os.path.join(work, 'log')

    def prepare(self, unitdir):
        units = os.path.join(self.work, 'units')
        os.makedirs(os.path.join(units, 'picsec.target.wants'))
        os.makedirs(self.logdir)
        for t in STUB_TARGETS:
            with open(os.path.join(units, t + '.target'), 'w') as f:
                f.write('[Unit]\nDescription=stands in for the host %s (empty)\n' % t)
        with open(os.path.join(units, 'system.slice'), 'w') as f:
            f.write('[Unit]\nDescription=stands in for the host system.slice (empty)\n')
        for unit in UNITS:
            shutil.copy(self.dest + os.path.join(unitdir, unit), units)
        os.symlink('../picsec-fwd@.service',
                   os.path.join(units, 'picsec.target.wants', 'picsec-fwd@ms-0-0-0.service'))
        # Each daemon's output to a file; a fast watchdog so that a hang shows quickly.
        os.makedirs(os.path.join(units, 'service.d'))
        with open(os.path.join(units, 'service.d', 'test.conf'), 'w') as f:
            f.write('[Service]\nStandardOutput=append:%s/%%n.log\nStandardError=inherit\n'
                    % self.logdir)
            # LeakSanitizer stops the world with ptrace, which the units' seccomp filter
            # (the hardening under test) denies: it would fail every exit. The other suites
            # check leaks; here a sanitized build checks only ASan's and UBSan's errors.
            if options().get('sanitize') or options().get('b_sanitize', 'none') != 'none':
                f.write('Environment=ASAN_OPTIONS=detect_leaks=0\n')
        os.makedirs(os.path.join(units, 'picsec-sadb.service.d'))
        with open(os.path.join(units, 'picsec-sadb.service.d', 'watchdog.conf'), 'w') as f:
            f.write('[Service]\nWatchdogSec=2s\n')
        # picsec in copies of passwd and group (uid 64123, unused here), a manager that
        # neither raises hard limits (no CAP_SYS_RESOURCE in some sandboxes) nor needs
        # journald.
        etc = os.path.join(self.work, 'etc')
        os.makedirs(etc)
        for name, line in [('passwd', 'picsec:x:64123:64123:picsec:/var/lib/picsec:'
                                      '/usr/sbin/nologin\n'),
                           ('group', 'picsec:x:64123:\n')]:
            with open('/etc/' + name) as f:
                text = ''.join(l for l in f if not l.startswith('picsec:'))
            with open(os.path.join(etc, name), 'w') as f:
                f.write(text + line)
        nofile = open('/proc/self/limits').read()
        hard = re.search(r'^Max open files\s+\S+\s+(\S+)', nofile, re.M).group(1)
        with open(os.path.join(etc, 'system.conf'), 'w') as f:
            f.write('[Manager]\nDefaultStandardOutput=inherit\nDefaultStandardError=inherit\n'
                    'DefaultLimitNOFILE=1024:%s\nDefaultLimitCORE=0\n' %
                    ('infinity' if hard == 'unlimited' else hard))
        binds = ['%s=%s' % (os.path.join(etc, 'passwd'), '/etc/passwd'),
                 '%s=%s' % (os.path.join(etc, 'group'), '/etc/group'),
                 '%s=%s' % (os.path.join(etc, 'system.conf'), '/etc/systemd/system.conf'),
                 '%s=%s' % (self.dest + self.sbindir, self.sbindir),
                 '%s=%s' % (self.dest + self.bindir, self.bindir)]
        return units, binds

    def start(self, units, binds):
        os.makedirs(self.cgroup)
        env = dict(os.environ, UNITS=units, BINDS=' '.join(binds))
        out = open(os.path.join(self.work, 'systemd.log'), 'w')
        cg = self.cgroup

        def into_cgroup():
            with open(os.path.join(cg, 'cgroup.procs'), 'w') as f:
                f.write(str(os.getpid()))
        try:
            self.proc = subprocess.Popen(
                ['unshare', '--mount', '--pid', '--fork', '--uts', '--ipc', '--net',
                 '--cgroup', '--propagation', 'private', '/bin/sh', '-c', BOOT_SH],
                env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=into_cgroup)
        except (OSError, subprocess.SubprocessError) as e:
            out.write('cannot start in cgroup %s: %s\n' % (cg, e))
            out.close()
            return False
        end = time.monotonic() + 10
        while time.monotonic() < end and self.pid1 is None:
            kids = run(['pgrep', '-P', str(self.proc.pid)]).stdout.split()
            for k in kids:
                try:
                    if os.readlink('/proc/%s/exe' % k).endswith('/systemd'):
                        self.pid1 = int(k)
                except OSError:
                    pass
            time.sleep(0.1)
        return self.pid1 is not None

    def ns(self, *argv, timeout=30):
        return run(['nsenter', '-t', str(self.pid1), '-m', '-p', '-n', '-u'] + list(argv),
                   timeout=timeout)

    def systemctl(self, *argv):
        return self.ns('systemctl', '--no-pager', *argv)

    def show(self, unit, *props):
        r = self.systemctl('show', unit, *['-p' + p for p in props])
        return dict(l.split('=', 1) for l in r.stdout.splitlines() if '=' in l)

    def host_pid(self, ns_pid):
        """The pid, as we see it, of the process that is NS_PID in the booted namespace."""
        mine = os.readlink('/proc/%d/ns/pid' % self.pid1)
        for d in os.listdir('/proc'):
            if not d.isdigit():
                continue
            try:
                if os.readlink('/proc/%s/ns/pid' % d) != mine:
                    continue
                with open('/proc/%s/status' % d) as f:
                    nspid = re.search(r'^NSpid:\s+(.*)$', f.read(), re.M).group(1).split()
                if nspid[-1] == str(ns_pid):
                    return int(d)
            except (OSError, AttributeError):
                continue
        return None

    def log(self, unit):
        try:
            with open(os.path.join(self.logdir, unit + '.log')) as f:
                return f.read()
        except OSError:
            return ''

    def stop(self):
        if self.proc is not None:
            if self.pid1 is not None:
                try:
                    os.kill(self.pid1, signal.SIGKILL)  # the namespace's init: all go with it
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # systemd's cgroups under ours, deepest first, once their processes are gone.
        for _ in range(50):
            if not os.path.exists(self.cgroup):
                break
            for dirpath, dirnames, _ in sorted(os.walk(self.cgroup), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
            time.sleep(0.1)


def wait_until(pred, seconds, step=0.2):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def cap_names(mask):
    r = run(['capsh', '--decode=%x' % mask]) if shutil.which('capsh') else None
    if r is None or r.returncode != 0:
        return None
    return set(x for x in r.stdout.strip().split('=', 1)[1].split(',') if x)


BOOT_CONF = '''/* The booted test's PIC and IKE: a next-hop service set with a dynamic term; the outside
 * device is the namespace's own veth with 192.0.2.1 (the peer never answers). */
services {
    service-set boot {
        next-hop-service {
            inside-service-interface ms-0/0/0.1;
            outside-service-interface ms-0/0/0.2;
        }
        ipsec-vpn-rules r;
        ipsec-vpn-options {
            local-gateway 192.0.2.1;
        }
    }
    ipsec-vpn {
        rule r {
            term t1 {
                from {
                    source-address 198.51.100.0/24;
                    destination-address 203.0.113.0/24;
                }
                then {
                    remote-gateway 192.0.2.2;
                    dynamic {
                        ike-policy ike-pol;
                        ipsec-policy ipsec-pol;
                    }
                }
            }
            match-direction input;
        }
        ike {
            proposal ike-prop {
                authentication-method pre-shared-keys;
                dh-group group14;
                authentication-algorithm sha-256;
                encryption-algorithm aes-128-cbc;
            }
            policy ike-pol {
                version 2;
                proposals ike-prop;
                pre-shared-key ascii-text "the booted test's key";
            }
        }
        ipsec {
            proposal esp-prop {
                protocol esp;
                authentication-algorithm hmac-sha-256-128;
                encryption-algorithm aes-128-cbc;
            }
            policy ipsec-pol {
                proposals esp-prop;
            }
        }
    }
}
interfaces {
    ms-0/0/0 {
        unit 1 {
            family inet;
            service-domain inside;
        }
        unit 2 {
            family inet;
            service-domain outside;
        }
    }
}
'''

SERVICES = ['picsec-busd.service', 'picsec-configd.service', 'picsec-sadb.service',
            'picsec-fwd@ms-0-0-0.service', 'picsec-iked.service', 'picsec-healthd.service',
            'picsec-metricsd.service']


def check_boot(tap):
    why = boot_usable()
    if why:
        tap.skip('a booted systemd runs the suite', why)
        return
    opts = options()
    prefix = opts['prefix']
    unitdir = systemd_dir('systemdsystemunitdir', prefix, 'lib/systemd/system')
    for d in [os.path.join(prefix, opts['sbindir']), os.path.join(prefix, opts['bindir'])]:
        if not os.path.isdir(d):
            tap.skip('a booted systemd runs the suite', '%s does not exist to mount over' % d)
            return
    # Not under /tmp: the units' PrivateTmp= would hide it from them.
    work = tempfile.mkdtemp(prefix='picsec-boot-', dir=BUILD)
    dest = os.path.join(work, 'dest')
    booted = Booted(work, dest, opts)
    try:
        r = meson_install(dest)
        if not tap.ok(r.returncode == 0, 'meson install --destdir', r.stdout):
            return
        units, binds = booted.prepare(unitdir)
        if not tap.ok(booted.start(units, binds), 'systemd boots in its own namespaces',
                      open(os.path.join(work, 'systemd.log')).read()):
            return

        def all_active():
            return all(booted.show(u, 'ActiveState').get('ActiveState') == 'active'
                       for u in SERVICES)
        wait_until(all_active, 20)
        for unit in SERVICES:
            p = booted.show(unit, 'ActiveState', 'SubState', 'MainPID', 'StatusText')
            tap.ok(p.get('ActiveState') == 'active',
                   '%s active (%s), status "%s"' % (unit, p.get('SubState'),
                                                   p.get('StatusText')),
                   '%s\n%s' % (p, booted.log(unit)))
            pid = booted.host_pid(int(p.get('MainPID', '0') or 0))
            if pid is None:
                tap.ok(False, '%s: its main process' % unit)
                continue
            with open('/proc/%d/status' % pid) as f:
                st = f.read()
            uid = re.search(r'^Uid:\s+(\d+)', st, re.M).group(1)
            eff = int(re.search(r'^CapEff:\s+([0-9a-f]+)', st, re.M).group(1), 16)
            bnd = int(re.search(r'^CapBnd:\s+([0-9a-f]+)', st, re.M).group(1), 16)
            names = cap_names(eff)
            tap.ok(uid == '64123', '%s runs as picsec' % unit, st)
            want = CAPS.get(unit, set())
            if names is not None:
                tap.ok(names == want and cap_names(bnd) == want,
                       '%s holds %s' % (unit, ' '.join(sorted(want)) or 'no capability'),
                       'effective %s, bounding %s' % (names, cap_names(bnd)))
            tap.ok(re.search(r'^Seccomp:\s+2', st, re.M) is not None and
                   re.search(r'^NoNewPrivs:\s+1', st, re.M) is not None,
                   '%s: seccomp filter and no new privileges' % unit, st)
        cli = os.path.join(prefix, opts['bindir'], 'picsec')
        for svc in ['busd', 'configd', 'sadb', 'fwd.ms-0/0/0', 'iked', 'healthd', 'metricsd']:
            r = booted.ns(cli, 'request', 'bus', 'ping', svc, timeout=20)
            tap.ok(r.returncode == 0 and 'answered' in r.stdout,
                   'the bus reaches %s' % svc, r.stdout)

        # The PIC under its sandbox: an outside device, a service set, its veth and XDP.
        for cmd in [['ip', 'link', 'add', 'ge-0-0-0', 'type', 'veth', 'peer', 'name', 'wan'],
                    ['ip', 'link', 'set', 'ge-0-0-0', 'up'], ['ip', 'link', 'set', 'wan', 'up'],
                    ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'ge-0-0-0']]:
            booted.ns(*cmd)
        conf = os.path.join(work, 'boot.conf')
        with open(conf, 'w') as f:
            f.write(BOOT_CONF)
        r = booted.ns(cli, 'configure', '-f', conf, timeout=30)
        tap.ok(r.returncode == 0 and 'commit complete' in r.stdout, 'commit a service set',
               r.stdout)
        fwd = 'picsec-fwd@ms-0-0-0.service'
        set_up = wait_until(lambda: 'service set boot: ms-0-0-0.1' in booted.log(fwd), 10)
        tap.ok(set_up, 'the PIC sets its service set up (veth, AF_XDP, XDP)', booted.log(fwd))
        links = booted.ns('ip', '-d', 'link', 'show').stdout
        tap.ok('ms-0-0-0.1' in links and re.search(r'ge-0-0-0@\S+: .* xdp', links),
               'its veth exists and XDP is on the outside device', links)
        # accept_local (0 by default in a new network namespace) is set by the PIC.
        al = booted.ns('cat', '/proc/sys/net/ipv4/conf/ms-0-0-0.1/accept_local').stdout.strip()
        tap.ok(al == '1', 'it wrote its veth\'s accept_local (/proc/sys/net/ipv4/conf is '
               'writable to it)', al + '\n' + booted.log(fwd))
        r = booted.ns('ip', 'route', 'show', '203.0.113.0/24')
        tap.ok('ms-0-0-0.1' in r.stdout, 'it routes the remote prefix into its veth', r.stdout)
        udp = wait_until(lambda: (lambda o: o if '192.0.2.1:500 ' in o and
                                  '192.0.2.1:4500 ' in o else None)(
            booted.ns('ss', '-Hulnp').stdout), 10)
        tap.ok(udp and 'picsec-iked' in udp, 'iked binds UDP 500 and 4500 on the local gateway',
               '%s\n%s' % (booted.ns('ss', '-Hulnp').stdout, booted.log('picsec-iked.service')))
        scrape = booted.ns('/usr/bin/python3', '-c',
                           'import urllib.request as u; print(u.urlopen('
                           '"http://127.0.0.1:9547/metrics", timeout=10).read().decode())')
        tap.ok(scrape.returncode == 0 and 'picsec_' in scrape.stdout,
               'metricsd answers a scrape on 127.0.0.1:9547', scrape.stdout[-2000:])

        # Killed: restarted (Restart=on-failure), and the new PIC sets its service set up.
        before = booted.show(fwd, 'MainPID', 'NRestarts')
        pid = booted.host_pid(int(before['MainPID']))
        os.kill(pid, signal.SIGKILL)
        after = wait_until(lambda: (lambda p: p if p.get('MainPID') not in
                                    ('0', before['MainPID']) and
                                    p.get('ActiveState') == 'active' else None)(
            booted.show(fwd, 'MainPID', 'NRestarts', 'ActiveState')), 10)
        tap.ok(after is not None and int(after['NRestarts']) == int(before['NRestarts']) + 1,
               'a killed PIC is restarted', '%s -> %s' % (before, after))
        tap.ok(wait_until(lambda: booted.log(fwd).count('service set boot: ms-0-0-0.1') >= 2,
                          10), 'the restarted PIC sets its service set up again',
               booted.log(fwd))

        # Hung: the watchdog (2 s for sadb here) kills it, systemd restarts it.
        before = booted.show('picsec-sadb.service', 'MainPID', 'NRestarts')
        pid = booted.host_pid(int(before['MainPID']))
        os.kill(pid, signal.SIGSTOP)
        after = wait_until(lambda: (lambda p: p if p.get('MainPID') not in
                                    ('0', before['MainPID']) and
                                    p.get('ActiveState') == 'active' else None)(
            booted.show('picsec-sadb.service', 'MainPID', 'NRestarts', 'ActiveState')), 15)
        tap.ok(after is not None, 'a hung sadb is killed by the watchdog and restarted',
               '%s -> %s' % (before, after))

        r = booted.systemctl('stop', 'picsec.target')

        def still_up():
            return [u for u in SERVICES
                    if booted.show(u, 'ActiveState').get('ActiveState') != 'inactive']
        # systemctl waits for the target's own job; busd, ordered first, stops last.
        wait_until(lambda: not still_up(), 10)
        still = still_up()
        tap.ok(r.returncode == 0 and not still, 'stopping picsec.target stops every unit',
               r.stdout + (r.stderr or '') + ' still: %s' % [
                   (u, booted.show(u, 'ActiveState', 'Result', 'ExecMainStatus'),
                    booted.log(u)[-600:])
                   for u in still])
        links = booted.ns('ip', 'link', 'show').stdout
        tap.ok('ms-0-0-0.1' not in links and ' xdp' not in links,
               'the stopped PIC took its veth and XDP program away', links)
    finally:
        booted.stop()
        tap.ok(not os.path.exists(booted.cgroup), 'the test\'s cgroups are gone',
               booted.cgroup)
        shutil.rmtree(work, ignore_errors=True)


def main():
    checks = {'verify': check_verify, 'security': check_security, 'notify': check_notify,
              'install': check_install, 'boot': check_boot}
    if len(sys.argv) != 2 or sys.argv[1] not in checks:
        sys.stderr.write('usage: test_systemd.py %s\n' % '|'.join(checks))
        sys.exit(2)
    tap = Tap()
    try:
        checks[sys.argv[1]](tap)
    except Exception as e:  # a crash of the test is a failure, with its reason
        import traceback
        tap.ok(False, '%s: the check ran to its end' % sys.argv[1], traceback.format_exc())
    tap.done()


if __name__ == '__main__':
    main()
