"""Step 5: plans and what-if results for people and programs: text, CSV, XLSX and charts.

``text`` (a plan's table and CSV), ``excel`` (workbooks), ``charts`` (PNGs), ``whatif_rows``
(what-if results as rows and tables), ``comparison`` (plans side by side as rows and tables).
"""
