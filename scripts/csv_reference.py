"""Reference values for kiln.data.csv on vega-datasets' seattle-weather.csv, read
with Python's csv module: row count, per-column sums of the numeric columns, and
the weather labels' counts. Writes test/fixtures/data/seattle-weather.json.

Run: python3 scripts/csv_reference.py node_modules/vega-datasets/data/seattle-weather.csv
"""
import csv, json, sys
from collections import Counter

path = sys.argv[1]
with open(path, newline='') as f:
    rows = list(csv.DictReader(f))
numeric = ['precipitation', 'temp_max', 'temp_min', 'wind']
out = {
    'rows': len(rows),
    'columns': list(rows[0].keys()),
    'sums': {c: sum(float(r[c]) for r in rows) for c in numeric},
    'weather': dict(sorted(Counter(r['weather'] for r in rows).items())),
    'last': rows[-1],
}
with open('test/fixtures/data/seattle-weather.json', 'w') as f:
    json.dump(out, f, indent=1)
    f.write('\n')
