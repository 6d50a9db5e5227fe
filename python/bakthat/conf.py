"""The Python bakthat's configuration constants, and its ``events``."""
import os

from bakthat.events import Events

CONFIG_FILE = os.path.expanduser("~/.bakthat.yml")
PLUGINS_DIR = os.path.expanduser("~/.bakthat_plugins")
DATABASE = os.path.expanduser("~/.bakthat.sqlite")

DEFAULT_LOCATION = "us-east-1"
DEFAULT_DESTINATION = "s3"

EXCLUDE_FILES = [".bakthatexclude", ".gitignore"]

events = Events()
