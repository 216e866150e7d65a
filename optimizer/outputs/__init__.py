"""Step 5: plans and what-if results for people and programs: text, CSV, XLSX and charts."""
