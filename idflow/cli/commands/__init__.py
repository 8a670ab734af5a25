"""The commands: each parses its options, calls one use case, and hands the outcome to a renderer."""
