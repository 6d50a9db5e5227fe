"""Shared helpers for the end-to-end tests: run the real bakthat binary in a
scratch HOME, make trees, compare them, and reach the loopback servers."""
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("BAKTHAT_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "bakthat")
SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVERS_ENV = os.environ.get("BAKTHAT_SERVERS_ENV", "/tmp/bakthat-servers.env")

# The aws CLI (and moto) may live in a pyenv Python that a bare PATH lacks.
if shutil.which("aws") is None:
    import glob as _glob
    _extra = _glob.glob(os.path.expanduser("~/.pyenv/shims")) + \
        sorted(_glob.glob(os.path.expanduser("~/.pyenv/versions/*/bin")))
    os.environ["PATH"] = os.pathsep.join(_extra + [os.environ.get("PATH", "")])


def servers():
    """KEY=VALUE settings of the loopback servers (starting them if needed)."""
    if not os.path.exists(SERVERS_ENV):
        subprocess.run([os.path.join(SOURCE_DIR, "tests", "servers", "up.sh")], check=True)
    out = {}
    with open(SERVERS_ENV) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                out[k] = v
    return out


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    @property
    def text(self):
        return self.out.decode("utf-8", "replace")

    @property
    def errtext(self):
        return self.err.decode("utf-8", "replace")

    def __repr__(self):
        return "exit %d\nstdout: %s\nstderr: %s" % (self.code, (self.out or b"")[:2000], self.err[:4000])


def scratch_home(tmp):
    """(home, work, env) under tmp: a HOME of its own (so ~/.bakthat.yml,
    ~/.bakthat.sqlite and the default local store are private), a work
    directory, and the environment to run bakthat with there."""
    home = os.path.join(tmp, "home")
    work = os.path.join(tmp, "work")
    os.makedirs(home)
    os.makedirs(work)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BAKTHAT_PASSWORD", "BAKTHAT_DB"))}
    env.update({"HOME": home, "XDG_DATA_HOME": os.path.join(home, ".local", "share"), "TZ": "UTC"})
    return home, work, env


class BakthatTestCase(unittest.TestCase):
    """Each test gets its own HOME (so ~/.bakthat.yml, ~/.bakthat.sqlite and
    the default local store are private) and a work directory."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bakthat-e2e-")
        self.home, self.work, self.env = scratch_home(self.tmp)

    def tearDown(self):
        def onerror(func, path, exc):
            # Tests leave mode-0 entries behind: opened up and tried again.
            # Only inside the scratch tree: the parent of the tree itself is
            # /tmp (a failure there once made /tmp 0700).
            try:
                if path != self.tmp:
                    os.chmod(os.path.dirname(path), 0o700)
                os.chmod(path, 0o700)
                func(path)
            except OSError:
                pass
        shutil.rmtree(self.tmp, onerror=onerror)

    def run_bakthat(self, *args, input=None, cwd=None, env=None, timeout=600, stdout=subprocess.PIPE,
                    preexec_fn=None):
        e = dict(self.env)
        if env:
            e.update(env)
        proc = subprocess.run([BIN, *args], input=input, cwd=cwd or self.work, env=e,
                              stdout=stdout, stderr=subprocess.PIPE, timeout=timeout,
                              preexec_fn=preexec_fn)
        return Result(proc)

    def backup_stream_raced(self, args, upload_seen, store_theirs):
        """Runs `bakthat backup - ARGS`, fed 1 MiB at a time until
        upload_seen() returns the name being uploaded (None before), then
        calls store_theirs(name), another machine storing that name meanwhile,
        and ends the stream. Returns (name, Result)."""
        proc = subprocess.Popen([BIN, "backup", "-", *args], cwd=self.work, env=self.env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        name, out, err = None, b"", b""
        try:
            sent = 0
            while name is None and sent < (64 << 20):
                proc.stdin.write(os.urandom(1 << 20))
                proc.stdin.flush()
                sent += 1 << 20
                if sent >= (5 << 20):  # a part's worth: the upload may show now
                    time.sleep(0.1)
                    name = upload_seen()
            self.assertIsNotNone(name, "no upload appeared")
            store_theirs(name)
            out, err = proc.communicate(input=os.urandom(1 << 20), timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        return name, Result(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))

    def ok(self, *args, **kw):
        r = self.run_bakthat(*args, **kw)
        self.assertEqual(r.code, 0, repr(r))
        return r

    def fails(self, *args, **kw):
        r = self.run_bakthat(*args, **kw)
        self.assertNotEqual(r.code, 0, repr(r))
        err = r.errtext.strip()
        self.assertTrue(err, "no error message")
        self.assertNotIn("terminate called", err)
        self.assertNotIn("Traceback", err)
        return r

    def write_config(self, text, path=None):
        path = path or os.path.join(self.home, ".bakthat.yml")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    def store_dir(self):
        return os.path.join(self.home, ".local", "share", "bakthat", "store")

    def store_objects(self):
        """The local store's entries, without bakthat's own folder (.bakthat:
        the catalog rows, docs/destination-catalog.md)."""
        return [n for n in os.listdir(self.store_dir()) if n != ".bakthat"]

    def catalog_path(self):
        return os.path.join(self.home, ".bakthat.sqlite")


def tree_digest(root):
    """A comparable description of a tree: names, types, modes, mtimes,
    contents, link targets, hard-link groups."""
    entries = {}
    inodes = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                entries[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                entries[rel] = ("dir", stat.S_IMODE(st.st_mode), int(st.st_mtime))
            else:
                with open(p, "rb") as f:
                    h = hashlib.sha256(f.read()).hexdigest()
                group = inodes.setdefault(st.st_ino, rel) if st.st_nlink > 1 else None
                entries[rel] = ("file", stat.S_IMODE(st.st_mode), int(st.st_mtime), h, group)
    return entries


def profile_text(keys):
    """A config file with one "default" profile: keys to YAML values, as written."""
    return "default:\n" + "".join("  %s: %s\n" % kv for kv in keys.items())


def make_small_tree(root):
    """A small tree for the remote destinations: a subdirectory, a non-ASCII
    name, incompressible data, a symlink, fixed mtimes."""
    os.makedirs(os.path.join(root, "sub", "deeper"))
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("hello\n")
    with open(os.path.join(root, "sub", "data.bin"), "wb") as f:
        f.write(os.urandom(200000))
    with open(os.path.join(root, "sub", "héllo wörld ☃.txt"), "w") as f:
        f.write("unicode\n" * 1000)
    os.symlink("hello.txt", os.path.join(root, "link"))
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                os.utime(p, (1600000000, 1600000000))
