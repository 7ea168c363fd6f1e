"""Website chat sessions: the one transcript, who owns the conversation, handoffs to people."""
