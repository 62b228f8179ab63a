"""The packages of ccd_mm form layers: each imports only packages below it,
so there is no import cycle and the library never reaches into tools/."""
import ast
from pathlib import Path

import ccd_mm

PACKAGE_DIR = Path(ccd_mm.__file__).parent
# Lowest first. core: the method's equations in pure torch; structures: view
# tensors; datasets: splits, the label table and target transforms; models
# and teachers: the networks; labeling: passes of a teacher or classifier
# over a split; engine: hooks and checkpoint loading; evaluation: reports on
# saved runs; visualization: figures.
LAYERS = [
    'core', 'structures', 'datasets', 'models', 'teachers', 'labeling',
    'engine', 'evaluation', 'visualization'
]


def _imported_packages(source: str, module: str) -> set:
    """The ccd_mm packages that the source of ``module`` (dotted name)
    imports, absolutely or relatively."""
    module_parts = tuple(module.split('.'))
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom):
            base = module_parts[:len(module_parts) - node.level]
            names = ['.'.join(base + ((node.module, ) if node.module else ()))]
        else:
            continue
        for name in names:
            parts = name.split('.')
            if parts[0] == 'ccd_mm' and len(parts) > 1:
                found.add(parts[1])
    return found


def _package_imports() -> dict:
    imports = {}
    for path in PACKAGE_DIR.rglob('*.py'):
        parts = path.relative_to(PACKAGE_DIR).parts
        if len(parts) > 1:
            module = '.'.join(('ccd_mm', ) +
                              path.with_suffix('').parts[-len(parts):])
            imports.setdefault(parts[0], set()).update(
                _imported_packages(path.read_text(), module) - {parts[0]})
    return imports


def _layer_violations(imports: dict) -> list:
    """(package, the packages it imports that are not below it)."""
    violations = []
    for package, imported in sorted(imports.items()):
        above = imported - set(LAYERS[:LAYERS.index(package)])
        if above:
            violations.append((package, sorted(above)))
    return violations


def test_every_package_has_a_layer():
    assert set(_package_imports()) == set(LAYERS)


def test_packages_import_only_lower_layers():
    assert _layer_violations(_package_imports()) == []


def test_library_does_not_import_tools():
    for path in PACKAGE_DIR.rglob('*.py'):
        text = path.read_text()
        assert 'import tools' not in text and 'from tools' not in text, path
        assert 'spec_from_file_location' not in text, path


def test_the_check_sees_relative_imports_and_cycles():
    source = 'from ...labeling import x\nfrom ..lookup import y\n'
    assert _imported_packages(
        source, 'ccd_mm.engine.hooks.h') == {'labeling', 'engine'}
    cycle = dict(teachers={'labeling'}, labeling={'teachers'})
    assert _layer_violations(cycle) == [('teachers', ['labeling'])]
