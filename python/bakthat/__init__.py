"""bakthat: compress, optionally encrypt, and store backups of files and
directories on local disk, S3, Glacier and Swift, with a searchable SQLite
catalog.

The module API of the Python bakthat (0.6): the same functions, argument
names, defaults and results, run by the C++ engine (``bakthat._bakthat``).
Results are dicts with the catalog's columns (``stored_filename``, ``size``,
``metadata``, ``backend``, ``filename``, ``backup_date``, ``tags``...).
Messages go to Python's ``logging`` (``root`` for "Backing up ...",
``bakthat.backends`` for "Upload completion: N%"), errors are
:class:`BakthatError` subclasses, and Ctrl-C stops a running operation
cleanly, raising KeyboardInterrupt.
"""
import io
import json
import logging
import os

from bakthat import _bakthat
from bakthat._bakthat import (AuthError, BakthatError, ConfigError, ConflictError, CorruptError, CryptoError,
                              InterruptedError, IoError, NotFoundError, PartialError, StorageError, UnsafeError,
                              UnsupportedError, UsageError)
from bakthat.conf import CONFIG_FILE, DEFAULT_DESTINATION, DEFAULT_LOCATION, PLUGINS_DIR, events
from bakthat.events import deleted_records

__version__ = "0.6.0"
__all__ = ["backup", "restore", "list_entries", "open_entry", "show", "ls", "delete", "delete_older_than", "rotate_backups", "sync",
           "reset_sync", "verify", "events", "BakthatError", "UsageError", "ConfigError", "NotFoundError",
           "IoError", "StorageError", "AuthError", "CryptoError", "CorruptError", "ConflictError", "UnsafeError",
           "PartialError", "UnsupportedError", "InterruptedError", "CONFIG_FILE"]

log = logging.getLogger("bakthat")
_backends_log = logging.getLogger("bakthat.backends")
_PROGRESS_WORDS = {"Uploading": "Upload completion", "Writing": "Upload completion",
                   "Downloading": "Download completion", "Reading": "Download completion"}


def _report(kind, text, percent):
    """The C++ Reporter's messages, as the Python bakthat logged them."""
    if kind == "message":
        # The engine says where a backup goes ("Uploading to s3://bucket...",
        # "Writing to /store...") and where a restore reads from; the Python
        # bakthat logged "Uploading..." and "Downloading...".
        if text.startswith(("Uploading to ", "Writing to ")) and text.endswith("..."):
            text = "Uploading..."
        elif text.startswith(("Downloading from ", "Reading from ")) and text.endswith("..."):
            text = "Downloading..."
        logging.getLogger().info(text)
    elif kind == "warning":
        log.warning(text)
    else:
        _backends_log.info("%s: %d%%", _PROGRESS_WORDS.get(text, text), percent)


def _options(profile="default", config=None, destination=None, conf=None, **extra):
    """The dict of options the binding takes (python/_bakthat.cpp)."""
    if config in (None, CONFIG_FILE):
        config = ""  # ~/.bakthat.yml, which may be absent
    options = {"config": config, "profile": profile or "default", "destination": destination or "",
               "report": _report}
    if conf:
        if not isinstance(conf, dict):
            raise UsageError("conf must be a dict of a profile's keys, not %s" % type(conf).__name__)
        options["conf"] = json.dumps(conf)
    options.update(extra)
    _plugin.current.conf = conf or None
    return options


def _getpass(prompt="Password: "):
    """getpass.getpass, imported when a password is asked for: a backup
    that asks none does not pay for the import at start-up."""
    import getpass
    return getpass.getpass(prompt)


def _tags(tags):
    if isinstance(tags, str):
        return tags.split()
    return list(tags or [])


def _names(names):
    """A list of paths or patterns, given as a list or a single str."""
    if isinstance(names, str):
        return [names]
    return list(names or [])


def _deleted(decisions):
    """The records a retention deleted; failed deletions are logged, as the
    Python bakthat did, and left out."""
    decisions = json.loads(decisions)
    for d in decisions:
        if d["error"]:
            log.error("Error when deleting %s: %s", d["record"]["stored_filename"], d["error"])
    return deleted_records(decisions)


def backup(filename=None, destination=None, profile="default", config=CONFIG_FILE, prompt="yes", tags=[],
           key=None, exclude_file=None, s3_reduced_redundancy=False, **kwargs):
    """Back up a file or a directory (the current directory by default).

    :param filename: file or directory to back up (default: os.getcwd()).
    :param destination: local|s3|glacier|swift (default: the profile's).
    :param profile: profile name of the config file.
    :param config: path of the config file (default ~/.bakthat.yml).
    :param prompt: "no" disables the password prompt (and encryption,
        when no password is given).
    :param tags: a list of tags, or a str of space-separated tags.
    :param key: a periodic backup's key (metadata "periodic_key").
    :param exclude_file: a .gitignore-like file of patterns to leave out
        (default: the directory's .bakthatexclude or .gitignore).
    :param s3_reduced_redundancy: store with S3's REDUCED_REDUNDANCY class.
    :keyword password: the password ("" disables encryption; default:
        BAKTHAT_PASSWORD, else asked when prompt is not "no").
    :keyword conf: a dict of a profile's keys, used instead of the file.
    :keyword custom_filename: the catalog filename instead of the path's name.
    :keyword compress: False stores the file as it is.
    :keyword incremental: True backs a directory up as a level of an
        incremental chain (GNU tar's --listed-incremental): the first of its
        name a full level 0, each later one only what changed since the
        level before; metadata "level" and "parent" say where it stands,
        and restore() of a level restores its whole chain.
    :rtype: dict
    :return: the catalog record: stored_filename, size, metadata, backend,
        filename, backup_date, tags, ... (None when the password confirmation
        did not match).
    """
    if filename is None:
        filename = os.getcwd()
    password = kwargs.get("password", os.environ.get("BAKTHAT_PASSWORD"))
    if password is None and str(prompt).lower() != "no":
        password = _getpass("Password (blank to disable encryption): ")
        if password and _getpass("Password confirmation: ") != password:
            log.error("Password confirmation doesn't match")
            return None
    options = _options(profile, config, destination, kwargs.get("conf"),
                       password=password if password is not None else "",
                       tags=_tags(tags), key=key, exclude_file=exclude_file or "",
                       reduced_redundancy=bool(s3_reduced_redundancy),
                       custom_name=kwargs.get("custom_filename") or "",
                       compress=kwargs.get("compress"), incremental=bool(kwargs.get("incremental", False)))
    return json.loads(_bakthat.backup(filename, options))


def restore(filename, destination=None, profile="default", config=CONFIG_FILE, **kwargs):
    """Restore the latest backup whose name starts with filename into the
    current working directory.

    :param filename: a backup's filename or stored filename (or their start).
    :param destination: local|s3|glacier|swift (default: the profile's).
    :param profile: profile name of the config file.
    :param config: path of the config file (default ~/.bakthat.yml).
    :keyword password: the password of an encrypted backup (asked otherwise).
    :keyword conf: a dict of a profile's keys, used instead of the file.
    :keyword target_dir: restore there instead of the current directory.
    :keyword force: replace existing files.
    :keyword wait: Glacier: wait until the retrieval is done.
    :keyword paths: restore only these paths of a tar backup (and what is
        under them), with the directories above them.
    :keyword include: shell patterns: restore only the entries matching one
        (matched against the whole path, or, without a '/', against each
        of its components).
    :keyword exclude: shell patterns: leave out the entries matching one.
        With paths, include or exclude, only the bytes that hold the
        selected entries are fetched where the backup has an index.
    :rtype: dict
    :return: the restored backup's catalog record, with "state"
        ("restored", or "retrieval_started" / "retrieval_in_progress" for an
        archive tier) and "restored" (the top-level names created).
    """
    options = _options(profile, config, destination, kwargs.get("conf"),
                       password=kwargs.get("password") or None, ask_password=_getpass,
                       target_dir=kwargs.get("target_dir") or "", force=bool(kwargs.get("force")),
                       wait=bool(kwargs.get("wait")), paths=_names(kwargs.get("paths")),
                       include=_names(kwargs.get("include")), exclude=_names(kwargs.get("exclude")))
    result = json.loads(_bakthat.restore(filename, options))
    record = result["record"]
    record["state"] = result["state"]
    record["restored"] = result["restored"]
    return record


def list_entries(filename, destination=None, profile="default", config=CONFIG_FILE, **kwargs):
    """The files of the latest tar backup whose name starts with filename,
    in archive order, read from its index (without downloading the backup,
    when it has one).

    :keyword password: the password of an encrypted backup (asked otherwise).
    :keyword conf: a dict of a profile's keys, used instead of the file.
    :rtype: list
    :return: one dict per entry: path, type ("file", "directory",
        "symlink", "hardlink", "char", "block", "fifo", "other"), size,
        mode, mtime, uid, gid, user, group, link (links), and its place in
        the tar stream (header, data, end), as ``bakthat list --json``.
    """
    options = _options(profile, config, destination, kwargs.get("conf"),
                       password=kwargs.get("password") or None, ask_password=_getpass)
    return json.loads(_bakthat.list_entries(filename, options))


class _EntryRaw(io.RawIOBase):
    """The raw stream under open_entry's file object."""

    def __init__(self, reader):
        super().__init__()
        self._reader = reader

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self._reader.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readall(self):
        return self._reader.read(-1)

    def close(self):
        if not self.closed:
            self._reader.close()
        super().close()


def open_entry(filename, path, destination=None, profile="default", config=CONFIG_FILE, **kwargs):
    """Open one regular file of the latest tar backup whose name starts with
    filename, for reading its content without restoring the backup: only
    the bytes that hold it are fetched where the backup allows (a gzip,
    zstd, plain or encrypted backup with an index), and each piece is
    checked as a restore checks it. Reads release the GIL.

    :param path: the file's path in the backup, as list_entries gives it
        (a hard link reads as the file it links to).
    :keyword password: the password of an encrypted backup (asked otherwise).
    :keyword conf: a dict of a profile's keys, used instead of the file.
    :rtype: io.BufferedReader
    :return: a binary file object (read(n), readline, iteration by lines,
        a context manager). Raises NotFoundError for a path the backup does
        not hold, UsageError for one that is not a regular file.
    """
    options = _options(profile, config, destination, kwargs.get("conf"),
                       password=kwargs.get("password") or None, ask_password=_getpass)
    return io.BufferedReader(_EntryRaw(_bakthat.EntryReader(filename, path, options)), buffer_size=1 << 20)


def delete(filename, destination=None, profile="default", config=CONFIG_FILE, **kwargs):
    """Delete the latest backup whose name starts with filename from its
    store, and mark it deleted in the catalog.

    :keyword conf: a dict of a profile's keys, used instead of the file.
    :rtype: dict
    :return: the deleted backup's catalog record.
    """
    return json.loads(_bakthat.delete(filename, _options(profile, config, destination, kwargs.get("conf"))))


def delete_older_than(filename, interval, profile="default", config=CONFIG_FILE, destination=None, **kwargs):
    """Delete the backups of filename older than interval.

    :param interval: like 1M, 1W, 1M3W4h2s (s, m, h, D, W, M, Y).
    :keyword conf: a dict of a profile's keys, used instead of the file.
    :keyword dry_run: decide without deleting.
    :rtype: list
    :return: the deleted backups' records.
    """
    options = _options(profile, config, destination, kwargs.get("conf"), dry_run=bool(kwargs.get("dry_run")))
    return _deleted(_bakthat.delete_older_than(filename, interval, options))


def rotate_backups(filename, destination=None, profile="default", config=CONFIG_FILE, **kwargs):
    """Rotate the backups of filename with the grandfather-father-son scheme
    of the profile's ``rotation`` (days, weeks, months, first_week_day...).
    Raises ConfigError when no rotation is configured.

    :keyword conf: a dict of a profile's keys, used instead of the file.
    :keyword dry_run: decide without deleting.
    :rtype: list
    :return: the deleted backups' records.
    """
    options = _options(profile, config, destination, kwargs.get("conf"), dry_run=bool(kwargs.get("dry_run")))
    return _deleted(_bakthat.rotate_backups(filename, options))


def show(query="", destination="", tags="", profile="default", config=CONFIG_FILE, **kwargs):
    """List the catalog's backups whose filename contains query (logged as
    the Python bakthat showed them, one line each).

    :param destination: only this destination (default: all).
    :param tags: tags every listed backup has (list or space-separated str).
    :keyword conf: a dict of a profile's keys, used instead of the file.
    :rtype: list
    :return: the records, newest first.
    """
    options = _options(profile, config, destination, kwargs.get("conf"), query=query or "", tags=_tags(tags))
    backups = json.loads(_bakthat.show(options))
    import datetime  # here only: the other operations do without it
    for b in backups:
        log.info("%s\t%-8s\t%8d\t%s%s", datetime.datetime.fromtimestamp(b["backup_date"]).isoformat(),
                 b["backend"], b["size"], b["stored_filename"],
                 " (%s)" % b["tags"] if b.get("tags") else "")
    return backups


def ls(query="", destination=None, profile="default", config=CONFIG_FILE, **kwargs):
    """List the names stored at the destination (read from the store itself)
    that start with query.

    :keyword conf: a dict of a profile's keys, used instead of the file.
    :rtype: list
    :return: the stored names, in name order.
    """
    objects = json.loads(_bakthat.ls(query or "", _options(profile, config, destination, kwargs.get("conf"))))
    for o in objects:
        log.info(o["name"])
    return [o["name"] for o in objects]


def verify(filename, destination=None, profile="default", config=CONFIG_FILE, **kwargs):
    """Download the latest backup of filename, check its sha256, decrypt and
    read it whole.

    :keyword password: the password of an encrypted backup (asked otherwise).
    :rtype: dict
    :return: the verified backup's record.
    """
    options = _options(profile, config, destination, kwargs.get("conf"),
                       password=kwargs.get("password") or None, ask_password=_getpass)
    return json.loads(_bakthat.verify(filename, options))


def sync(**kwargs):
    """Synchronize the catalog with the sync server of the config file's
    ``sync:`` block.

    :keyword conf: a dict of a profile's keys, used instead of the file.
    :keyword config: path of the config file.
    :rtype: dict
    :return: sent, received, inserted, updated.
    """
    return json.loads(_bakthat.sync(_options(kwargs.get("profile", "default"), kwargs.get("config"), None,
                                             kwargs.get("conf"))))


def reset_sync(**kwargs):
    """Forget this machine's sync state, so that the next sync sends and
    receives every row."""
    _bakthat.reset_sync(_options(kwargs.get("profile", "default"), kwargs.get("config"), None, kwargs.get("conf")))


# Events and plugins: the library's events reach bakthat.events' slots, and
# the profile's Python plugins ("module.Class") load at the first operation
# that uses the profile.
from bakthat import plugin as _plugin  # noqa: E402

_bakthat.subscribe_all(_plugin.dispatch_event)
_bakthat.set_plugin_loader(_plugin.load_python_plugin)
