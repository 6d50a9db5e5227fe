"""The developer guide's MySQL backup script, verbatim, against a real
MariaDB server that the test starts (Debian mariadb-server, a private
datadir and socket, no network) with the real `sh` module: the dump it backs
up (encrypted, on moto's S3) is restored, loaded into a fresh server, and
CHECKSUM TABLE of every table matches the original's."""
import json
import os
import shutil
import subprocess
import time
import unittest

from test_guide import GuideTestCase, block_with

SERVER = shutil.which("mariadbd", path="/usr/sbin:/usr/bin") or shutil.which("mysqld", path="/usr/sbin:/usr/bin")
INSTALL_DB = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
CLIENT = shutil.which("mariadb") or shutil.which("mysql")
DUMP = shutil.which("mysqldump")

SEED = """
CREATE DATABASE shop DEFAULT CHARACTER SET utf8mb4;
USE shop;
CREATE TABLE customers (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100), note TEXT) ENGINE=InnoDB;
CREATE TABLE orders (id INT PRIMARY KEY, customer INT, total DECIMAL(10,2), at DATETIME, blobby BLOB) ENGINE=InnoDB;
CREATE TABLE counters (k VARCHAR(20) PRIMARY KEY, v BIGINT) ENGINE=MyISAM;
INSERT INTO customers (name, note) VALUES ('Ada', 'first'), ('Grace', 'quote\\'s and "doubles"'), ('Linus', NULL),
  ('Zoë', 'ünïcödé ☃');
INSERT INTO orders SELECT seq, 1 + seq % 4, seq * 1.25, '2026-01-01' + INTERVAL seq MINUTE, RANDOM_BYTES(64)
  FROM seq_1_to_2000;
INSERT INTO counters VALUES ('a', 1), ('b', 9223372036854775807);
CREATE DATABASE `other db` DEFAULT CHARACTER SET utf8mb4;
CREATE TABLE `other db`.`t` (x INT);
INSERT INTO `other db`.`t` VALUES (1), (2), (3);
"""


class MariaDB:
    """A private server: its own datadir, socket, pid file; no TCP."""

    def __init__(self, root):
        self.root = root
        self.datadir = os.path.join(root, "data")
        self.socket = os.path.join(root, "mysqld.sock")
        self.log = os.path.join(root, "error.log")
        self.proc = None

    def start(self):
        os.makedirs(self.root, exist_ok=True)
        user = ["--user=root"] if os.getuid() == 0 else []
        subprocess.run([INSTALL_DB, "--no-defaults", "--datadir=" + self.datadir, "--skip-test-db",
                        "--auth-root-authentication-method=socket", *user], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        self.proc = subprocess.Popen([SERVER, "--no-defaults", "--datadir=" + self.datadir, "--socket=" + self.socket,
                                      "--skip-networking", "--pid-file=" + os.path.join(self.root, "pid"),
                                      "--log-error=" + self.log, "--innodb-buffer-pool-size=16M", *user],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mariadbd exited: " + open(self.log).read()[-2000:])
            if os.path.exists(self.socket) and self.sql("SELECT 1", check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("mariadbd did not start: " + open(self.log).read()[-2000:])

    def sql(self, text, check=True):
        proc = subprocess.run([CLIENT, "--no-defaults", "--socket=" + self.socket, "-u", "root", "--batch",
                               "--default-character-set=utf8mb4",
                               "--skip-column-names"],
                              input=text if isinstance(text, bytes) else text.encode(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError("SQL failed: %s" % proc.stderr.decode())
        return proc

    def checksums(self):
        tables = self.sql("SELECT CONCAT('`', table_schema, '`.`', table_name, '`') FROM information_schema.tables "
                          "WHERE table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') "
                          "ORDER BY 1").stdout.decode().split("\n")
        tables = [t for t in tables if t]
        out = self.sql("CHECKSUM TABLE %s EXTENDED" % ", ".join(tables)).stdout.decode()
        return dict(line.split("\t") for line in out.strip().split("\n"))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class MySQLExample(GuideTestCase):
    def setUp(self):
        super().setUp()
        self.servers_started = []

    def need_mariadb(self):
        missing = [n for n, p in (("mariadbd", SERVER), ("mariadb-install-db", INSTALL_DB), ("mariadb", CLIENT),
                                  ("mysqldump", DUMP)) if not p]
        if missing:
            self.skipTest("MariaDB is not installed (Debian: mariadb-server, mariadb-client): no %s"
                          % ", ".join(missing))
        try:
            subprocess.run(["/usr/bin/python3", "-c", "import sh"], check=True, stderr=subprocess.PIPE)
        except subprocess.CalledProcessError:
            self.skipTest("the sh module is not installed (Debian: python3-sh)")

    def tearDown(self):
        for s in self.servers_started:
            s.stop()
        super().tearDown()

    def server(self, name):
        s = MariaDB(os.path.join(self.tmp, name))
        self.servers_started.append(s)
        s.start()
        return s

    def test_mysql_script_backs_up_a_dump_that_restores_into_a_fresh_server(self):
        self.need_mariadb()
        original = self.server("original")
        original.sql(SEED)
        expected = original.checksums()
        self.assertEqual(len(expected), 4)

        moto = self.servers["MOTO_ENDPOINT"]
        self.moto_config(rotation={"days": 7, "first_week_day": 5, "months": 6, "weeks": 6})
        # mysqldump finds the private server through ~/.my.cnf, as a user's would.
        with open(os.path.join(self.home, ".my.cnf"), "w") as f:
            f.write("[client]\nsocket=%s\n" % original.socket)
        proc = self.run_block(block_with("sh.mysqldump"), moto)
        self.assertIn("INFO:root:Encrypting...", proc.stderr.decode())
        [row] = self.rows()
        self.assertEqual((row["filename"], row["tags"], row["backend"]), ("myhost_mysql", "mysql", "s3"))
        self.assertTrue(json.loads(row["metadata"])["is_enc"])

        out = os.path.join(self.tmp, "restored")
        os.makedirs(out)
        code = "import bakthat\nbakthat.restore('myhost_mysql', password='mypassword')\n"
        env = dict(os.environ, HOME=self.home, AWS_ENDPOINT_URL=moto, PYTHONPATH=self.pythonpath())
        subprocess.run(["/usr/bin/python3", "-c", code], cwd=out, env=env, check=True, timeout=300)
        [top] = os.listdir(out)
        self.assertTrue(top.startswith("myhost_mysql_"), top)
        with open(os.path.join(out, top, "dump.sql"), "rb") as f:
            dump = f.read()
        self.assertIn(b"CREATE DATABASE", dump)

        original.stop()
        fresh = self.server("fresh")
        fresh.sql(dump)
        self.assertEqual(fresh.checksums(), expected)


if __name__ == "__main__":
    unittest.main()
