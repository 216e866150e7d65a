"""Excel input workbooks: a scenario as table-shaped sheets finance can fill in, and back.

``write_template`` lays a scenario out as a Help sheet and six tables (Scenario, Periods,
Channels, KolTiers, Rules, FixedCosts); ``read_workbook`` turns such a workbook back into the
plain dict a YAML file gives, noting the cell of every field; ``load_workbook_scenario``
validates it, naming the sheet, the cell and the field of every problem. The columns are
derived from the pydantic schema, so new schema fields show up on their own.

Modules: ``columns`` (columns from the schema), ``writer`` (the template), ``tables`` (an .xlsx
file as raw tables), ``values`` (cell values), ``reader`` (tables -> scenario dict) and
``cells`` (validation problems -> cells).
"""

from optimizer.inputs.workbook.reader import load_workbook_scenario, read_workbook
from optimizer.inputs.workbook.writer import write_template

__all__ = ["load_workbook_scenario", "read_workbook", "write_template"]
