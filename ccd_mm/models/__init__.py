from . import classifiers, data_preprocessors, heads  # noqa: F401
