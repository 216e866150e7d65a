"""Step 1 of the data flow: the scenario as a validated model, field paths and error messages."""
