"""Files in: scenario files (YAML, JSON), allocation CSVs and Excel input workbooks.

``files`` loads a scenario (its ``text``, parsed by ``document`` with each field's line, or a
``workbook``) and validates it; ``allocation`` reads a hand-made split from a CSV.
"""
