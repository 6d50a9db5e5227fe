"""The Python bakthat's helpers: KeyValue, a small store of JSON values, and
BakHelper, the scaffolding of a backup script."""
import json
import logging
import os
import shutil
import tempfile

import bakthat
from bakthat import _bakthat

log = logging.getLogger(__name__)


class KeyValue(object):
    """A key-value store of JSON-serializable values on the profile's
    destination (S3 in the Python bakthat). Values are gzipped unless
    compress=False, encrypted with a password, and are catalog backups:
    ``bakthat show`` lists them and ``bakthat restore KEY --stdout`` prints
    one, whichever language set it.

    :param conf: a dict of a profile's keys (default: the config file's).
    :param profile: profile name of the config file.
    :param destination: local|s3|glacier|swift (default: the profile's).
    :param config: path of the config file (default ~/.bakthat.yml).
    """

    def __init__(self, conf={}, profile="default", destination=None, config=bakthat.CONFIG_FILE):
        self.conf = conf
        self.profile = profile
        # No password given: values are stored unencrypted, as the Python
        # bakthat's were.
        self._kv = _bakthat.KeyValue(bakthat._options(profile, config, destination, conf, password=""))

    def set_key(self, keyname, value, **kwargs):
        """Store value (JSON-serializable) under keyname.

        :keyword compress: gzip the value (True by default).
        :keyword password: encrypt with this password.
        :keyword tags: a list of tags for the catalog row.
        :rtype: dict
        :return: the catalog record of the stored value.
        """
        password = kwargs.get("password") or None
        record = self._kv.set_key(keyname, json.dumps(value), bool(kwargs.get("compress", True)), password,
                                  bakthat._tags(kwargs.get("tags")))
        return json.loads(record)

    def get_key(self, keyname, **kwargs):
        """The value stored under keyname, or the default (None) when there is
        none. Raises CryptoError for a wrong or missing password.

        :keyword password: the password the value was set with.
        :keyword default: returned when the key does not exist.
        """
        text = self._kv.get_key(keyname, kwargs.get("password") or None)
        if text is None:
            return kwargs.get("default")
        return json.loads(text)

    def delete_key(self, keyname):
        """Delete every value of keyname; True when there was one."""
        return self._kv.delete_key(keyname)

    def get_key_url(self, keyname, expires_in, method="GET"):
        """A URL allowing method on the key's stored object for expires_in
        seconds without credentials (S3). The URL gives the stored bytes:
        gzip-compressed (and encrypted) as the key was set.
        Raises UnsupportedError on destinations without URLs (local)."""
        return self._kv.get_key_url(keyname, int(expires_in), method)


class BakHelper:
    """Helper to build backup scripts, used as a context manager: entering
    makes a temporary directory "{backup_name}_XXXXXX" the working directory,
    leaving returns to the previous one and removes it (also on an
    exception).

    :param backup_name: the backups' name, and the temporary directory's prefix.
    :keyword destination: local|s3|glacier|swift (default: the profile's).
    :keyword password: password ("" or absent: no encryption).
    :keyword profile: profile name of the config file.
    :keyword conf: a dict of a profile's keys, used instead of the file.
    :keyword tags: list of tags.
    :keyword key: a periodic backup's key.
    """

    def __init__(self, backup_name=None, **kwargs):
        self.backup_name = backup_name
        self.dir_prefix = "{0}_".format(backup_name)
        self.destination = kwargs.get("destination")
        self.password = kwargs.get("password", "")
        self.profile = kwargs.get("profile", "default")
        self.conf = kwargs.get("conf", {})
        self.tags = kwargs.get("tags", [])
        self.key = kwargs.get("key", None)
        self.tmpd = None

    def __enter__(self):
        """Create the temporary directory and make it the working directory."""
        self.old_cwd = os.getcwd()
        self.tmpd = tempfile.mkdtemp(prefix=self.dir_prefix)
        os.chdir(self.tmpd)
        log.debug("New current working directory: {0}.".format(self.tmpd))
        return self

    def __exit__(self, type, value, traceback):
        """Return to the previous working directory and remove the temporary one."""
        os.chdir(self.old_cwd)
        log.debug("Back to {0}".format(self.old_cwd))
        shutil.rmtree(self.tmpd, ignore_errors=True)

    def _common(self, kwargs):
        return dict(destination=kwargs.get("destination", self.destination),
                    profile=kwargs.get("profile", self.profile), conf=kwargs.get("conf", self.conf))

    def backup(self, filename=None, **kwargs):
        """Back up filename (default: the temporary directory) under the
        helper's name; keywords override password, destination, tags,
        profile, conf. Returns the catalog record (dict)."""
        if filename is None:
            filename = self.tmpd
        return bakthat.backup(filename, password=kwargs.get("password", self.password),
                              tags=kwargs.get("tags", self.tags), key=kwargs.get("key", self.key),
                              custom_filename=self.backup_name, **self._common(kwargs))

    def restore(self, filename, **kwargs):
        """Restore the latest backup of filename into the current working
        directory. Returns the record (dict)."""
        return bakthat.restore(filename, password=kwargs.get("password", self.password), **self._common(kwargs))

    def delete_older_than(self, filename=None, interval=None, **kwargs):
        """Delete the backups of filename (default: the helper's name) older
        than interval ("1M", "3W2D"...). Returns the deleted records."""
        if filename is None:
            filename = self.backup_name
        return bakthat.delete_older_than(filename, interval, **self._common(kwargs))

    def rotate(self, filename=None, **kwargs):
        """Rotate the backups of filename (default: the helper's name) by the
        profile's rotation. Returns the deleted records."""
        if filename is None:
            filename = self.backup_name
        return bakthat.rotate_backups(filename, **self._common(kwargs))
