"""Files in: scenario files (YAML, JSON), allocation CSVs and Excel input workbooks."""
