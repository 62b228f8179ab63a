from . import data_preprocessors, heads  # noqa: F401
