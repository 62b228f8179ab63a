import pytest

from .config_builds import write_dataset_layouts


@pytest.fixture(scope='package')
def layouts(tmp_path_factory):
    """A working directory whose ``data/`` holds every dataset layout the
    configs read, each a few images."""
    return write_dataset_layouts(tmp_path_factory.mktemp('layouts'))
