"""What spec authors and CI run, behind one `charter` command (tools.cli)."""
