"""The plain-text tables that `make bench` and `make browser` print."""


def print_table(header, rows):
    """``header`` and ``rows`` (sequences of cells) in left-aligned columns, a rule under the
    header."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)))
