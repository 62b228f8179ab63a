"""Annotation JSON files read with errors that name the file and the record.

A JSON syntax error (``Expecting value: line 1 column 1365``) or a bare
``KeyError: 'images'`` from a loader names neither the file nor the record;
the loaders read their files through these functions instead, at
construction, before any image is labeled.
"""
from typing import Sequence

import mmengine


def load_annotation_json(path: str, keys: Sequence[str], kind: str) -> dict:
    """The JSON object of ``path``, which must hold ``keys``.

    Args:
        path (str): the annotation file.
        keys (Sequence[str]): top-level keys the loader reads.
        kind (str): what the file should be, for the message, e.g. ``'a
            COCO instances file (instances_*2014.json)'``.

    Raises:
        ValueError: the file is not valid JSON (truncated, hand-edited) or
            lacks some of ``keys``; the message names it.
    """
    try:
        content = mmengine.load(path)
    except ValueError as error:  # json.JSONDecodeError
        raise ValueError(f'{path} is not valid JSON, truncated perhaps: '
                         f'{error}') from error
    absent = [
        key for key in keys
        if not isinstance(content, dict) or key not in content
    ]
    if absent:
        raise ValueError(f'{path} has no {absent}: not {kind}')
    return content


def check_record_keys(path: str, name: str, records: Sequence,
                      keys: Sequence[str]) -> None:
    """Refuse the first record of the list ``name`` of ``path`` that lacks
    some of ``keys`` (or is no JSON object).

    Raises:
        ValueError: naming the file, the record's position and content,
            and the keys every record needs.
    """
    for index, record in enumerate(records):
        absent = [
            key for key in keys
            if not isinstance(record, dict) or key not in record
        ]
        if absent:
            raise ValueError(
                f'{path}: {name}[{index}] has no {absent} '
                f'({str(record)[:80]}); every record of "{name}" needs '
                f'{list(keys)}')
