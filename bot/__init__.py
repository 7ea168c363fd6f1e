"""Core of the support assistant: settings, database, domain services and CLI."""
