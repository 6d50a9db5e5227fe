"""The Python bakthat's plugins: a profile's ``plugins`` entries of the form
"module.Class" name subclasses of :class:`Plugin`, imported from
``plugins_dir`` (default ~/.bakthat_plugins) or the Python path, made with
the profile's conf and activated once per process, at the first operation
that uses the profile. Entries that are shared libraries are the C++
library's plugins (include/bakthat/events.hpp) and load there."""
import atexit
import importlib
import json
import logging
import os
import sys
import threading

from bakthat.conf import PLUGINS_DIR, events
from bakthat.events import deleted_records

log = logging.getLogger(__name__)

# The conf dict of the operation this thread is starting (the plugins'
# conf), set by bakthat._options.
current = threading.local()


class Plugin(object):
    """Abstract plugin: implement activate(), optionally deactivate().
    Event slots are reachable as attributes: ``self.before_backup += f``."""

    def __init__(self, conf):
        self.conf = conf
        self.events = events
        self.log = log

    def __getattr__(self, attr):
        if attr in ("before_backup", "on_backup", "before_restore", "on_restore", "before_delete", "on_delete",
                    "before_delete_older_than", "on_delete_older_than", "before_rotate_backups",
                    "on_rotate_backups"):
            return getattr(self.events, attr)
        raise AttributeError("Event {0} does not exist!".format(attr))

    def __repr__(self):
        return "<Plugin bakthat: {0}>".format(self.__class__.__name__)

    __str__ = __repr__

    def activate(self):
        raise NotImplementedError("Plugin should implement this!")

    def deactivate(self):
        raise NotImplementedError("Plugin may implement this!")


def load_class(full_class_string):
    """Import "package.module.Class" and return the class."""
    module_path, _, class_name = full_class_string.rpartition(".")
    return getattr(importlib.import_module(module_path), class_name)


def _profile_conf(profile):
    conf = getattr(current, "conf", None)
    if conf is not None:
        return conf
    try:
        import yaml
        with open(os.path.expanduser("~/.bakthat.yml")) as f:
            return (yaml.safe_load(f) or {}).get(profile, {})
    except (ImportError, OSError):
        return {}


def load_python_plugin(entry, plugins_dir, profile):
    """The library's PluginLoader: takes "module.Class" entries, declines the
    shared libraries (a path, a name ending in .so, a file in plugins_dir)."""
    plugins_dir = plugins_dir or PLUGINS_DIR
    if entry.startswith("/") or entry.endswith(".so") or "." not in entry.strip("."):
        return False
    if os.path.isfile(os.path.join(plugins_dir, entry)) or os.path.isfile(os.path.join(plugins_dir, entry + ".so")):
        return False
    if os.path.isdir(plugins_dir) and plugins_dir not in sys.path:
        sys.path.append(plugins_dir)
    cls = load_class(entry)
    if not (isinstance(cls, type) and issubclass(cls, Plugin)):
        raise TypeError("Plugin must be a bakthat.plugin.Plugin subclass!")
    p = cls(_profile_conf(profile))
    log.debug("Activating {0}".format(p))
    p.activate()

    def deactivate_plugin():
        try:
            p.deactivate()
        except NotImplementedError:
            pass
    atexit.register(deactivate_plugin)
    return True


def dispatch_event(name, session_id, event_json):
    """The library's events to bakthat.events' slots (see bakthat.events)."""
    slot = getattr(events, name, None)
    if slot is None or not len(slot):
        return
    if name.startswith("before_"):
        slot(session_id)
        return
    result = json.loads(event_json)["result"]
    if name == "on_restore":
        result = result["record"]
    elif name in ("on_delete_older_than", "on_rotate_backups"):
        result = deleted_records(result)
    slot(session_id, result)
