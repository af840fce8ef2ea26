"""Every figure in the README's Results tables comes from the committed results file its table names.

Each table under '## Results' is preceded by ``<!-- figures: PATTERN ... -->`` (paths under the repository, globs
allowed), and each number in its body cells must be a number stored in those files as the tables print them: the
value itself, in percent, in millions or billions (parameters, MACs), seconds as minutes, or a mean over seeds, rounded
to the cell's decimals. Names in backticks (presets, configs, commands) are not figures. A number typed by hand, or
left over from a run whose files are gone, fails here.
"""
import csv
import itertools
import json
import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / 'README.md'
NUMBER = re.compile(r'(?<![\w.])[-+]?\d+(?:\.\d+)?(?![\w.])')
MARKER = re.compile(r'<!-- figures: (.+?) -->')
SCALES = (1.0, 100.0, 1e-6, 1e-9, 1 / 60)


def stored_numbers(patterns: list[str]) -> list[float]:
    """Every finite number in the named JSON / CSV files (numbers inside strings too)."""
    values: list[float] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, (int, float)) and not isinstance(node, bool) and math.isfinite(node):
            values.append(float(node))
        elif isinstance(node, str):
            values.extend(float(v) for v in NUMBER.findall(node))

    paths = sorted({path for pattern in patterns for path in ROOT.glob(pattern)})
    assert paths, f'no results file matches {patterns}'
    for path in paths:
        if path.suffix == '.json':
            walk(json.loads(path.read_text()))
        else:
            walk(list(csv.reader(path.open())))
    return values


def results_tables(text: str, section: str | None = '## Results') -> list[tuple[list[str], list[tuple[int, str]]]]:
    """(source patterns, [(line number, body cell)]) for every table under ``section``, every table elsewhere that names
    its files, and every table whose paragraph starts with 'Results' (as in the config folders' READMEs)."""
    lines = text.splitlines()
    if section is None:
        first, last = 0, 0
    else:
        first = next(i for i, line in enumerate(lines) if line.strip() == section)
        last = next(i for i, line in enumerate(lines) if i > first and line.startswith('## '))

    def inside(index: int) -> bool:
        return first <= index < last

    tables, i, end = [], 0, len(lines)
    while i < end:
        if lines[i].startswith('|') and i + 1 < end and lines[i + 1].startswith('|---'):
            marker = MARKER.fullmatch(lines[i - 1].strip())
            cells, j = [], i + 2
            while j < end and lines[j].startswith('|'):
                cells += [(j + 1, cell) for cell in lines[j].strip().strip('|').split('|')]
                j += 1
            paragraph = next((lines[k] for k in range(i - 1, max(i - 8, -1), -1) if lines[k - 1].strip() == ''
                              and not lines[k].startswith('<!--')), '')
            if inside(i) or marker or paragraph.startswith('Results'):
                tables.append((marker.group(1).split() if marker else [], cells))
                if not marker:
                    tables[-1][1].insert(0, (i + 1, '<no figures marker>'))
            i = j
        else:
            i += 1
    return tables


def matches(text: str, values: list[float]) -> bool:
    decimals = len(text.split('.')[1]) if '.' in text else 0
    target = abs(float(text))
    tolerance = 0.5 * 10 ** -decimals + 1e-9
    return any(abs(abs(v) * scale - target) <= tolerance for v in values for scale in SCALES)


def with_means(values: list[float]) -> list[float]:
    """The values and the means of each run of 3 (means over seeds stored per seed, as the curve tables print)."""
    return values + [sum(run) / 3 for run in itertools.combinations(values, 3)] if len(values) <= 60 else values


def missing_figures(text: str, name: str = 'README.md', section: str | None = '## Results') -> list[str]:
    missing = []
    for patterns, cells in results_tables(text, section):
        if not patterns:
            missing.append(f'{name}:{cells[0][0]}: a Results table without <!-- figures: FILES --> above it')
            continue
        values = stored_numbers(patterns)
        for line, cell in cells:
            for figure in NUMBER.findall(re.sub(r'`[^`]*`', '', cell).replace('**', '')):
                if not matches(figure, values):
                    missing.append(f'{name}:{line}: {figure} is in none of {patterns} (cell {cell.strip()!r})')
    return missing


def test_every_results_table_figure_is_in_its_results_file():
    missing = missing_figures(README.read_text())
    for readme in sorted((ROOT / 'configs').rglob('README.md')):
        missing += missing_figures(readme.read_text(), str(readme.relative_to(ROOT)), section=None)
    assert not missing, 'figures that no committed results file holds:\n' + '\n'.join(missing)


@pytest.mark.parametrize('change', ['figure', 'marker'])
def test_a_made_up_figure_or_a_missing_source_fails(change):
    text = README.read_text()
    table = text.index('<!-- figures: docs/results/quality/summary.json -->')
    row = text.index('| `rhis_lite0_64x48` | ImageNet |', table)
    if change == 'figure':
        cell = re.search(r'\d+\.\d', text[row:]).start() + row
        text = text[:cell] + '97.3' + text[cell + 4:]
    else:
        text = text[:table] + text[table:].replace('<!-- figures: docs/results/quality/summary.json -->', '', 1)
    assert missing_figures(text)
