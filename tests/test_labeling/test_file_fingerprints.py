"""File fingerprints: recorded by the initial labeling's decode pass, read
again on resume, exact to the bit."""
import hashlib

import numpy as np
import torch
from PIL import Image

from ccd_mm.labeling import label_global_views
from ccd_mm.labeling.file_fingerprints import (UNREADABLE_FILE,
                                               file_fingerprints)


class UniformTeacher(torch.nn.Module):
    num_classes = 3

    def forward(self, views):
        return torch.full((len(views), 3), 1 / 3)


def write_image(path, value):
    Image.fromarray(np.full((20, 30, 3), value, np.uint8)).save(path)
    return str(path)


def test_labeling_pass_and_resume_read_the_same_fingerprints(tmp_path):
    paths = [
        write_image(tmp_path / 'a.png', 10),
        str(tmp_path / 'missing.png'),
        write_image(tmp_path / 'b.png', 200)
    ]
    scores, decoded, labeled = label_global_views(
        UniformTeacher(), paths, 16, batch_size=2, num_workers=0)
    assert decoded.tolist() == [True, False, True]
    assert labeled.dtype == torch.long
    assert torch.equal(labeled, file_fingerprints(paths, num_workers=0))
    # All 64 bits of the digest: a float32 column would round them.
    digest = hashlib.blake2b(
        open(paths[0], 'rb').read(), digest_size=8).digest()
    assert int(labeled[0]) == int.from_bytes(digest, 'little', signed=True)
    assert int(labeled[1]) == UNREADABLE_FILE
    write_image(tmp_path / 'b.png', 201)  # other bytes, the same name
    changed = file_fingerprints(paths, num_workers=0) != labeled
    assert changed.tolist() == [False, False, True]
