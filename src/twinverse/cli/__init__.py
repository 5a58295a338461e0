"""The command line: typer commands that parse, call the workspace, and render with rich."""
