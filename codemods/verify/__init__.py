"""`verify` and `smoke`: the only commands that import and run the target's code."""
