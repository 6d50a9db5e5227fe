"""The catalog as the Python bakthat exposed it: peewee models over the
SQLite catalog the C++ library writes (the same schema), so that custom
queries keep working::

    from bakthat.models import Backups
    for b in Backups.search("mydir", "s3"):
        print(b.stored_filename, b.size)

Needs peewee (Debian: python3-peewee); without it, importing this module
raises ImportError saying so. The database is the default profile's
catalog (``database``, else BAKTHAT_DB, else ~/.bakthat.sqlite).
"""
import json
import os
import time

try:
    import peewee
except ImportError as e:  # pragma: no cover - depends on the system
    raise ImportError("bakthat.models needs peewee (Debian: python3-peewee): %s" % e)

from bakthat import _bakthat


def _catalog_path():
    try:
        return json.loads(_bakthat.profile({}))["database"]
    except Exception:
        return os.environ.get("BAKTHAT_DB") or os.path.expanduser("~/.bakthat.sqlite")


DATABASE = _catalog_path()
database = peewee.SqliteDatabase(DATABASE, pragmas={"busy_timeout": 5000})


class JsonField(peewee.TextField):
    """A column of JSON text."""

    def db_value(self, value):
        return json.dumps(value)

    def python_value(self, value):
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            return value


class BaseModel(peewee.Model):
    class Meta:
        database = database


class Backups(BaseModel):
    """The ``backups`` table: one row per backup (deleted ones stay, with
    is_deleted)."""
    backend = peewee.CharField(index=True)
    backend_hash = peewee.CharField(index=True, null=True)
    backup_date = peewee.IntegerField(index=True)
    filename = peewee.TextField(index=True)
    is_deleted = peewee.BooleanField()
    last_updated = peewee.IntegerField()
    metadata = JsonField()
    size = peewee.IntegerField()
    stored_filename = peewee.TextField(index=True, unique=True)
    tags = peewee.CharField()

    def __repr__(self):
        return "<Backup: {0}>".format(self.stored_filename)

    @classmethod
    def search(cls, query="", destination="", **kwargs):
        """Non-deleted backups whose filename or stored filename contains
        query, newest change first. destination: a name or a list (default:
        every one); keywords tags (every one present), older_than and
        backup_date (Unix seconds), last_updated_gt."""
        wheres = [(Backups.filename.contains(query) | Backups.stored_filename.contains(query)),
                  Backups.is_deleted == False]  # noqa: E712
        if destination:
            if isinstance(destination, str):
                destination = [destination]
            wheres.append(Backups.backend.in_(destination))
        if kwargs.get("older_than"):
            wheres.append(Backups.backup_date < kwargs["older_than"])
        if kwargs.get("backup_date"):
            wheres.append(Backups.backup_date == kwargs["backup_date"])
        if kwargs.get("last_updated_gt"):
            wheres.append(Backups.last_updated >= kwargs["last_updated_gt"])
        tags = kwargs.get("tags") or []
        if isinstance(tags, str):
            tags = tags.split()
        for tag in tags:
            wheres.append(Backups.tags.contains(tag))
        return Backups.select().where(*wheres).order_by(Backups.last_updated.desc())

    @classmethod
    def match_filename(cls, filename, destination, **kwargs):
        """The newest non-deleted backup whose filename or stored filename
        starts with filename on destination, or None."""
        query = Backups.select().where(
            (Backups.filename.startswith(filename) | Backups.stored_filename.startswith(filename)),
            Backups.backend == destination, Backups.is_deleted == False)  # noqa: E712
        return query.order_by(Backups.backup_date.desc()).first()

    def set_deleted(self):
        """Mark deleted in the catalog (the stored object stays: use
        bakthat.delete to remove both)."""
        self.is_deleted = True
        self.last_updated = int(time.time())
        self.save()

    def is_encrypted(self):
        return self.stored_filename.endswith(".enc") or bool(self.metadata.get("is_enc"))

    def is_gzipped(self):
        return bool(self.metadata.get("is_gzipped"))

    class Meta:
        table_name = "backups"


class Config(BaseModel):
    """The ``config`` table: key => JSON value."""
    key = peewee.CharField(index=True, unique=True)
    value = JsonField()

    @classmethod
    def get_key(cls, key, default=None):
        row = Config.get_or_none(Config.key == key)
        return row.value if row else default

    class Meta:
        table_name = "config"


class Inventory(BaseModel):
    """The ``inventory`` table: Glacier filename => archive id."""
    archive_id = peewee.CharField(index=True, unique=True)
    filename = peewee.CharField(index=True)

    class Meta:
        table_name = "inventory"


class Jobs(BaseModel):
    """The ``jobs`` table: Glacier filename => retrieval job id."""
    filename = peewee.CharField(index=True)
    job_id = peewee.CharField()

    class Meta:
        table_name = "jobs"
