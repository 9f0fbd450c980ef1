"""Review rules and export gate (no I/O), and the editors' review web app."""
