from . import checks  # noqa: F401 - registers the deploy check of the personal-data keys
