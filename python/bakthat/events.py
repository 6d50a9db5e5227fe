"""Events as the Python bakthat had them (the ``events`` package's way):
``bakthat.events.on_backup += callback``. ``before_X`` handlers are called
with the session id, ``on_X`` handlers with the session id and the result:
the record (a dict) for backup, restore and delete, the list of deleted
records for delete_older_than and rotate_backups. Handlers run on the
thread that runs the operation; one that raises is logged as a warning and
never fails the operation."""

EVENT_NAMES = tuple("%s_%s" % (when, op) for op in ("backup", "restore", "delete", "delete_older_than",
                                                     "rotate_backups") for when in ("before", "on"))


def deleted_records(decisions):
    """The records a retention's decisions deleted (not kept, no error)."""
    return [d["record"] for d in decisions if not d["keep"] and not d["error"]]


class EventSlot:
    """The handlers of one event: ``slot += f``, ``slot -= f``, ``slot(*args)``."""

    def __init__(self, name):
        self.__name__ = name
        self.targets = []

    def __iadd__(self, handler):
        self.targets.append(handler)
        return self

    def __isub__(self, handler):
        while handler in self.targets:
            self.targets.remove(handler)
        return self

    def __call__(self, *args, **kwargs):
        for handler in tuple(self.targets):
            handler(*args, **kwargs)

    def __len__(self):
        return len(self.targets)

    def __iter__(self):
        return iter(tuple(self.targets))

    def __repr__(self):
        return "<EventSlot %s: %d handler(s)>" % (self.__name__, len(self.targets))


class Events:
    """One EventSlot per event name (before_backup, on_backup, ...)."""

    def __init__(self):
        for name in EVENT_NAMES:
            setattr(self, name, EventSlot(name))

    def __iter__(self):
        return iter(getattr(self, name) for name in EVENT_NAMES)
