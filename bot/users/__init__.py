"""Staff accounts (agents, managers, admins): passwords, roles, sign-in tokens."""
