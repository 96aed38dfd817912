"""The audit log: who changed ownership or access, who saw a code or took a session."""
